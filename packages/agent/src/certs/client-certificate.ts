import { createPublicKey } from 'node:crypto';
import { type Logger, pemCertificates } from '@dmr/shared';
import { CertificateKeeper, type CertificateMaterial, certificateObserver, identityOf, publicKeyFingerprint } from '@dmr/shared/certs';
import type { AgentConfig } from '../config/index.js';
import type { AgentLink } from '../link/index.js';
import type { AgentMetrics } from '../obs/index.js';

/** What the keeper acts on. */
export interface ClientCertificateParts {
  readonly link: AgentLink;
  readonly metrics: AgentMetrics;
  readonly log: Logger;
  /** After new material is in force (the peer trust anchors may have changed with the CA bundle). */
  readonly onApplied?: () => Promise<void>;
}

/**
 * Keeps the agent's TLS client certificate current (issue 18): reloaded when `DMR_TLS_CERT_FILE`/`_KEY_FILE`/
 * `DMR_TLS_CA_FILE` change on disk, renewed with dmr-control (`DMR_CONTROL_URL`) at `DMR_CERT_RENEW_AT_FRACTION` of
 * its lifetime, its CA bundle following dmr-control's `GET /v1/ca-certificates` (`DMR_CA_BUNDLE_REFRESH_INTERVAL_MS`;
 * a change-over), and put in force by moving the link to a new connection ({@link AgentLink.switchTls}). Undefined
 * without a client certificate. The key that signs and decrypts messages stays the one loaded at start: a key
 * pair replaced on disk (rather than renewed) is used for messages only after a restart, which is logged.
 */
export function createClientCertificateKeeper(config: AgentConfig, parts: ClientCertificateParts): CertificateKeeper | undefined {
  const certificates = config.certificates;
  const { cert, key, ca } = config.link.tls ?? {};
  if (!certificates || cert === undefined || key === undefined) return undefined;
  const { lifecycle, paths } = certificates;
  const renewal = lifecycle.control ? { control: lifecycle.control, fraction: lifecycle.renewAtFraction } : undefined;
  // the trust-anchor change-over: DMR_TLS_CA_FILE follows dmr-control's bundle (servers of a new CA are trusted)
  const trust = lifecycle.control ? { control: lifecycle.control, intervalMs: lifecycle.caBundleRefreshIntervalMs } : undefined;
  const log = parts.log.child({ component: 'certificates', certificate: 'tls' });
  const identityKey = publicKeyFingerprint(createPublicKey(config.privateKey.key));
  const isIdentityKeyFile = paths.keyFile === config.privateKeyFile;
  const apply = async (material: CertificateMaterial, facts: { publicKeySha256: string }) => {
    // the CA bundle in canonical form, as at start (a bundle concatenated without newlines loses CAs in OpenSSL)
    const bundle = material.ca === undefined ? ca : pemCertificates(material.ca).join('');
    await parts.link.switchTls({ cert: material.certificate, key: material.key, ...(bundle ? { ca: bundle } : {}) });
    await parts.onApplied?.();
    if (isIdentityKeyFile && facts.publicKeySha256 !== identityKey) {
      log.warn(
        { keyFile: paths.keyFile },
        'AGENT_PRIVATE_KEY_FILE now holds another key pair: the connection uses it, messages are signed and decrypted with the key loaded at start until the agent restarts',
      );
    }
  };
  return new CertificateKeeper(
    { name: 'tls', paths, reloadIntervalMs: lifecycle.reloadIntervalMs, renewal, trust },
    identityOf({ certificate: cert, key, ...(ca === undefined ? {} : { ca }) }),
    { apply, observer: certificateObserver(parts.metrics.certificates, 'tls'), log },
  );
}
