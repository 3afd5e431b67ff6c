import { readFileSync } from 'node:fs';
import type { Server as HttpsServer } from 'node:https';
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

/** The server's TLS identity and the agent CA bundle, as PEM text held in memory. */
export interface TlsMaterial {
  readonly certificate: string;
  readonly key: string;
  /** The CA bundle that verifies agent client certificates (`DMR_TLS_CA_FILE`). */
  readonly ca: string;
}

/** Reads `DMR_TLS_CERT_FILE`, `DMR_TLS_KEY_FILE` and `DMR_TLS_CA_FILE` (checked by the config loader already). */
export function readTlsMaterial(config: TlsConfig): TlsMaterial {
  return {
    certificate: readFileSync(config.certFile, 'utf8'),
    key: readFileSync(config.keyFile, 'utf8'),
    ca: readFileSync(config.caFile, 'utf8'),
  };
}

/**
 * The secure-context part (reloadable at run time with `server.setSecureContext`). `crlPems`: the CRLs in force, one PEM
 * per CA (OpenSSL reads one CRL per entry); with none the context checks no revocation.
 */
export function secureContextOptions(material: TlsMaterial, crlPems: readonly string[] | undefined): SecureContextOptions {
  return {
    key: material.key,
    cert: material.certificate,
    // one entry per certificate: a bundle concatenated without newlines would otherwise lose every CA after the seam
    ca: pemCertificates(material.ca),
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
export function httpsServerOptions(material: TlsMaterial, crlPems: readonly string[] | undefined): TlsOptions {
  return { ...secureContextOptions(material, crlPems), requestCert: true, rejectUnauthorized: false };
}

/**
 * The TLS context of the live HTTPS server, rebuilt from one place when the CRLs or the identity change
 * (issue 18): `setSecureContext` serves new handshakes with the new context, while established connections
 * (agents' Socket.IO sockets) keep theirs and are not dropped.
 */
export class LiveTlsContext {
  #material: TlsMaterial;
  #crlPems: readonly string[] | undefined;
  readonly #server: () => HttpsServer;

  constructor(material: TlsMaterial, server: () => HttpsServer) {
    this.#material = material;
    this.#server = server;
  }

  /** Options the HTTPS server is created with (no CRL yet: the guard puts them in force once verified). */
  get serverOptions(): TlsOptions {
    return httpsServerOptions(this.#material, this.#crlPems);
  }

  /** Puts verified CRLs (one per CA) in force for new handshakes. Throws when TLS refuses them (the old context stays). */
  applyCrls(crlPems: readonly string[]): void {
    this.#server().setSecureContext(secureContextOptions(this.#material, crlPems));
    this.#crlPems = crlPems;
  }

  /** Puts a new certificate, key and CA bundle in force for new handshakes. Throws when TLS refuses them. */
  applyIdentity(material: TlsMaterial): void {
    this.#server().setSecureContext(secureContextOptions(material, this.#crlPems));
    this.#material = material;
  }
}
