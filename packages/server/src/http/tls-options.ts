import { readFileSync } from 'node:fs';
import type { SecureContextOptions, TlsOptions } from 'node:tls';
import { pemCertificates } from '@dmr/shared';
import type { TlsConfig } from '../config/index.js';

/** TLS 1.2 suites with forward secrecy and AEAD only; TLS 1.3 suites are all acceptable and stay Node's defaults. */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
].join(':');

/**
 * The secure-context part (reloadable at run time with `server.setSecureContext`). `crlPems`: the CRLs in force, one PEM
 * per CA (OpenSSL reads one CRL per entry); with none the context checks no revocation.
 */
export function secureContextOptions(config: TlsConfig, crlPems: readonly string[] | undefined): SecureContextOptions {
  return {
    key: readFileSync(config.keyFile),
    cert: readFileSync(config.certFile),
    // one entry per certificate: a bundle concatenated without newlines would otherwise lose every CA after the seam
    ca: pemCertificates(readFileSync(config.caFile, 'utf8')),
    ...(crlPems && crlPems.length > 0 ? { crl: [...crlPems] } : {}),
    minVersion: 'TLSv1.2',
    ciphers: TLS12_CIPHERS,
  };
}

/**
 * HTTPS server options for mutual TLS. Client certificates are requested and verified (chain, CRL, expiry)
 * but not enforced at the TLS layer, so probes and Prometheus can reach /v1/health, /v1/ready and /metrics
 * without one; the Socket.IO handshake refuses any agent whose certificate did not verify.
 */
export function httpsServerOptions(config: TlsConfig, crlPems: readonly string[] | undefined): TlsOptions {
  return { ...secureContextOptions(config, crlPems), requestCert: true, rejectUnauthorized: false };
}
