import { readFileSync } from 'node:fs';
import type { Logger } from '@dmr/shared';
import { CertificateKeeper, certificateObserver, identityOf } from '@dmr/shared/certs';
import type { BrokerConnection } from './amqp/index.js';
import type { ServerConfig } from './config/index.js';
import type { LiveTlsContext, TlsMaterial } from './http/index.js';
import type { ServerMetrics } from './obs/index.js';

/** The server's certificate keepers (issue 18): its TLS identity and the relay user's RabbitMQ client certificate. */
export interface CertificateUpkeep {
  readonly tls: CertificateKeeper | undefined;
  readonly rabbitmq: CertificateKeeper | undefined;
  start(): void;
  stop(): Promise<void>;
}

/** What the keepers act on. */
export interface UpkeepParts {
  readonly liveTls: LiveTlsContext | undefined;
  readonly tlsMaterial: TlsMaterial | undefined;
  readonly broker: BrokerConnection;
  readonly metrics: ServerMetrics;
  readonly log: Logger;
  /** DMR_TLS_CA_FILE changed (a CA change-over step): the CRL guard re-reads and re-checks. */
  readonly onTrustChanged?: () => Promise<void>;
}

/**
 * Keeps the server's certificates current. The TLS certificate (`DMR_TLS_*`) is reloaded live with
 * `setSecureContext` when its files change, and, with `DMR_CONTROL_URL`, renewed through dmr-control at
 * `DMR_CERT_RENEW_AT_FRACTION` of its lifetime; its CA bundle (the agents' trust anchors) follows dmr-control's
 * `GET /v1/ca-certificates` (a CA change-over), after which the CRL guard judges CRLs and live connections anew. The RabbitMQ client certificate (`RABBITMQ_TLS_CERT_FILE`/`_KEY_FILE`)
 * is reloaded by reconnecting at a quiet moment ({@link BrokerConnection.recycle}), and with
 * `DMR_CONTROL_RENEW_RABBITMQ_CERT=true` renewed through dmr-control on the relay user's behalf (the relay user cannot
 * call dmr-control itself: the server's own certificate authenticates the call).
 */
export function createCertificateUpkeep(config: ServerConfig, parts: UpkeepParts): CertificateUpkeep {
  const tls = tlsKeeper(config, parts);
  const rabbitmq = rabbitmqKeeper(config, parts, tls);
  if (config.certificates.control && !tls) {
    parts.log.warn('DMR_CONTROL_URL is set but the server has no TLS certificate (DMR_ALLOW_PLAINTEXT): nothing to renew');
  }
  return {
    tls,
    rabbitmq,
    start: () => {
      tls?.start();
      rabbitmq?.start();
    },
    stop: async () => {
      await Promise.all([tls?.stop(), rabbitmq?.stop()]);
    },
  };
}

function tlsKeeper(config: ServerConfig, parts: UpkeepParts): CertificateKeeper | undefined {
  const { tls, certificates } = config;
  const { liveTls, tlsMaterial } = parts;
  if (!tls || !liveTls || !tlsMaterial) return undefined;
  const renewal = certificates.control ? { control: certificates.control, fraction: certificates.renewAtFraction } : undefined;
  const trust = certificates.control ? { control: certificates.control, intervalMs: certificates.caBundleRefreshIntervalMs } : undefined;
  let caInForce = tlsMaterial.ca;
  const initial = identityOf({ certificate: tlsMaterial.certificate, key: tlsMaterial.key, ca: tlsMaterial.ca });
  return new CertificateKeeper(
    {
      name: 'tls',
      paths: { certFile: tls.certFile, keyFile: tls.keyFile, caFile: tls.caFile },
      reloadIntervalMs: certificates.reloadIntervalMs,
      renewal,
      trust,
    },
    initial,
    {
      // the CA bundle is always read with the pair (DMR_TLS_CA_FILE is required with TLS)
      apply: async (material) => {
        const ca = material.ca ?? tlsMaterial.ca;
        liveTls.applyIdentity({ certificate: material.certificate, key: material.key, ca });
        if (ca === caInForce) return;
        caInForce = ca;
        await parts.onTrustChanged?.();
      },
      observer: certificateObserver(parts.metrics.certificates, 'tls'),
      log: parts.log.child({ component: 'certificates', certificate: 'tls' }),
    },
  );
}

function rabbitmqKeeper(config: ServerConfig, parts: UpkeepParts, tls: CertificateKeeper | undefined): CertificateKeeper | undefined {
  const files = config.broker.tls;
  if (!files?.certFile || !files.keyFile) return undefined;
  const { control, renewAtFraction, renewRabbitmqCertificate } = config.certificates;
  const renewal =
    renewRabbitmqCertificate && control && tls
      ? { control, fraction: renewAtFraction, caller: () => ({ certificate: tls.material.certificate, key: tls.material.key }) }
      : undefined;
  const paths = { certFile: files.certFile, keyFile: files.keyFile, caFile: files.caFile };
  const initial = identityOf({
    certificate: readFileSync(paths.certFile, 'utf8'),
    key: readFileSync(paths.keyFile, 'utf8'),
    ca: readFileSync(paths.caFile, 'utf8'),
  });
  return new CertificateKeeper({ name: 'rabbitmq', paths, reloadIntervalMs: config.certificates.reloadIntervalMs, renewal }, initial, {
    apply: () => parts.broker.recycle('the RabbitMQ client certificate changed'),
    observer: certificateObserver(parts.metrics.certificates, 'rabbitmq'),
    log: parts.log.child({ component: 'certificates', certificate: 'rabbitmq' }),
  });
}
