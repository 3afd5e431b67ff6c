import { X509Certificate } from 'node:crypto';
import { type CertLifecycleSettings, type EnvReader, pemCertificates, readCertLifecycle } from '@dmr/shared';
import { readConfiguredFile } from './config-files.js';

/** TLS material for the link: the CA that signs the server certificate, and this agent's client certificate (mTLS). */
export interface LinkTlsOptions {
  /** PEM CA bundle that signs the server certificate, re-written in canonical form (one newline-ended block per CA). */
  readonly ca?: string;
  /** PEM client certificate presented to the server. */
  readonly cert?: string;
  /** PEM private key of the client certificate. */
  readonly key?: string;
}

/** Issue 18: where the client certificate lives and how it is kept current (reload on change, renewal with dmr-control). */
export interface AgentCertificatesConfig {
  readonly paths: {
    /** `DMR_TLS_CERT_FILE`. */
    readonly certFile: string;
    /** `DMR_TLS_KEY_FILE`, default `AGENT_PRIVATE_KEY_FILE` (one key per agent, as dmrctl and enrollment issue it). */
    readonly keyFile: string;
    /** `DMR_TLS_CA_FILE` (with dmr-control, rewritten with its CA bundle at every renewal). */
    readonly caFile: string | undefined;
  };
  readonly lifecycle: CertLifecycleSettings;
}

/** What {@link readLinkTls} found. */
export interface LinkTlsSettings {
  readonly tls: LinkTlsOptions | undefined;
  readonly certificates: AgentCertificatesConfig | undefined;
}

/** The file sources the reader needs (see `ConfigSources`). */
type ReadFile = (path: string) => string;

/**
 * Secure by default: the link needs TLS material and `https`/`wss` server URLs unless DMR_ALLOW_PLAINTEXT=true
 * (TLS terminated by an ingress in front of the agent's traffic, or local experiments). `DMR_TLS_KEY_FILE` defaults
 * to `AGENT_PRIVATE_KEY_FILE` when a certificate is configured. Also reads the certificate lifecycle variables
 * (`DMR_CONTROL_URL`, `DMR_CERT_RENEW_AT_FRACTION`, `DMR_CERT_RELOAD_INTERVAL_MS`).
 */
export function readLinkTls(reader: EnvReader, sources: { readFile: ReadFile }): LinkTlsSettings {
  const allowPlaintext = reader.bool('DMR_ALLOW_PLAINTEXT', false);
  const lifecycle = readCertLifecycle(reader);
  const certFile = reader.optionalString('DMR_TLS_CERT_FILE');
  const files = {
    ca: reader.optionalString('DMR_TLS_CA_FILE'),
    cert: certFile,
    key: reader.optionalString('DMR_TLS_KEY_FILE') ?? (certFile ? reader.optionalString('AGENT_PRIVATE_KEY_FILE') : undefined),
  };
  const urls = (reader.optionalString('DMR_SERVER_WEBSOCKET_URL') ?? '')
    .split(',')
    .map((url) => url.trim())
    .filter(Boolean);
  const hasPlainUrl = urls.some((url) => /^(http|ws):/i.test(url));
  if (!allowPlaintext && (!files.ca || !files.cert || !files.key || hasPlainUrl)) {
    reader.problem(
      'TLS is not configured: set DMR_TLS_CA_FILE, DMR_TLS_CERT_FILE, DMR_TLS_KEY_FILE (or AGENT_PRIVATE_KEY_FILE) and an https/wss DMR_SERVER_WEBSOCKET_URL, or DMR_ALLOW_PLAINTEXT=true',
    );
    return { tls: undefined, certificates: undefined };
  }
  if (Boolean(files.cert) !== Boolean(files.key)) reader.problem('DMR_TLS_CERT_FILE and DMR_TLS_KEY_FILE must be set together');
  if (lifecycle.control && !files.cert) reader.problem('DMR_CONTROL_URL renews the client certificate: set DMR_TLS_CERT_FILE');
  if (!files.ca && !files.cert) return { tls: undefined, certificates: undefined };
  const read = (variable: string, path: string | undefined) =>
    path === undefined ? undefined : readConfiguredFile(reader, sources.readFile, variable, path);
  const caText = read('DMR_TLS_CA_FILE', files.ca);
  const ca = caText === undefined ? undefined : readCaBundle(reader, files.ca as string, caText);
  const cert = read('DMR_TLS_CERT_FILE', files.cert);
  const key = read(reader.optionalString('DMR_TLS_KEY_FILE') ? 'DMR_TLS_KEY_FILE' : 'AGENT_PRIVATE_KEY_FILE', files.key);
  const tls = { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  const certificates =
    files.cert && files.key ? { paths: { certFile: files.cert, keyFile: files.key, caFile: files.ca }, lifecycle } : undefined;
  return { tls, certificates };
}

/**
 * `DMR_TLS_CA_FILE` as one canonical PEM text: OpenSSL reads PEM by lines, so a bundle made with `cat` from files
 * lacking their final newline would lose every CA after the seam; each certificate must parse, or the agent would
 * trust fewer CAs than the file names.
 */
function readCaBundle(reader: EnvReader, path: string, text: string): string | undefined {
  const certificates = pemCertificates(text);
  if (certificates.length === 0) {
    reader.problem(`DMR_TLS_CA_FILE: "${path}" holds no PEM certificate`);
    return undefined;
  }
  for (const [index, pem] of certificates.entries()) {
    try {
      new X509Certificate(pem);
    } catch {
      reader.problem(`DMR_TLS_CA_FILE: certificate ${index + 1} of ${certificates.length} in "${path}" is not a valid PEM certificate`);
      return undefined;
    }
  }
  return certificates.join('');
}
