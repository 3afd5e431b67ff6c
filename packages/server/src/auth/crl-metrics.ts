import { METRIC } from '@dmr/shared';
import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * The CRL lifecycle metrics: what operators alert on before OpenSSL starts refusing every agent. The gauges carry
 * one series per CA (`issuer`, its subject): during a CA change-over the server runs one CRL per CA.
 */
export interface CrlMetrics {
  /** nextUpdate of the CRL in force, Unix seconds; no series while no CRL (or one without nextUpdate) is in force. */
  readonly nextUpdate: Gauge<'issuer'>;
  /** CRL number of the CRL in force. */
  readonly crlNumber: Gauge<'issuer'>;
  /** 1 while the CRL in force is within DMR_TLS_CRL_WARN_BEFORE_MS of its nextUpdate or past it, else 0 (issue 18). */
  readonly expiring: Gauge<'issuer'>;
  /**
   * CRLs refused or not obtained, by code (DMR_CA_CRL_INVALID, DMR_CA_CRL_EXPIRED, DMR_CA_CRL_NOT_YET_VALID,
   * DMR_CA_CRL_STALE, DMR_CA_IO_FAILED, DMR_CA_CRL_FETCH_FAILED: one per failed fetch of DMR_TLS_CRL_URL).
   */
  readonly refusalsTotal: Counter<'code'>;
}

/** Registers the CRL metrics on `registry`. */
export function createCrlMetrics(registry: Registry): CrlMetrics {
  const registers = [registry];
  return {
    nextUpdate: new Gauge({
      name: METRIC.crlNextUpdate,
      help: 'nextUpdate of the CRL in force per CA (Unix seconds): past it, TLS refuses every certificate of that CA',
      labelNames: ['issuer'],
      registers,
    }),
    crlNumber: new Gauge({ name: METRIC.crlNumber, help: 'CRL number of the CRL in force per CA', labelNames: ['issuer'], registers }),
    expiring: new Gauge({
      name: METRIC.crlExpiring,
      help: '1 while the CRL in force of a CA is within DMR_TLS_CRL_WARN_BEFORE_MS of its nextUpdate or past it',
      labelNames: ['issuer'],
      registers,
    }),
    refusalsTotal: new Counter({
      name: METRIC.crlRefusalsTotal,
      help: 'CRLs refused (bad issuer or signature, expired, older than the one in force) or not obtained (file unreadable, URL fetch failed); the CRLs in force stayed',
      labelNames: ['code'],
      registers,
    }),
  };
}
