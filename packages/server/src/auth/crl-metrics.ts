import { METRIC } from '@dmr/shared';
import { Counter, Gauge, type Registry } from 'prom-client';

/** The CRL lifecycle metrics: what operators alert on before OpenSSL starts refusing every agent. */
export interface CrlMetrics {
  /** nextUpdate of the CRL in force, Unix seconds; unset while no CRL (or one without nextUpdate) is in force. */
  readonly nextUpdate: Gauge;
  /** CRL number of the CRL in force. */
  readonly crlNumber: Gauge;
  /** CRL files refused, by code (DMR_CA_CRL_INVALID, DMR_CA_CRL_EXPIRED, DMR_CA_CRL_NOT_YET_VALID, DMR_CA_CRL_STALE, DMR_CA_IO_FAILED). */
  readonly refusalsTotal: Counter<'code'>;
}

/** Registers the CRL metrics on `registry`. */
export function createCrlMetrics(registry: Registry): CrlMetrics {
  const registers = [registry];
  return {
    nextUpdate: new Gauge({
      name: METRIC.crlNextUpdate,
      help: 'nextUpdate of the CRL in force (Unix seconds): past it, TLS refuses every agent certificate',
      registers,
    }),
    crlNumber: new Gauge({ name: METRIC.crlNumber, help: 'CRL number of the CRL in force', registers }),
    refusalsTotal: new Counter({
      name: METRIC.crlRefusalsTotal,
      help: 'CRL files refused (bad issuer or signature, expired, older than the one in force); the CRL in force stayed',
      labelNames: ['code'],
      registers,
    }),
  };
}
