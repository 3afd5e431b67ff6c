// A bare HTTPS server that requests client certificates and hands the verified one to the lifecycle, as the API's
// /v1/renew route does: real TLS, real certificates, no fastify (the route is tested with the API).

import { createServer, request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { CertificateLifecycle } from '../../src/enroll/index.js';

/** A running harness. */
export interface MtlsHarness {
  readonly port: number;
  close(): Promise<void>;
}

/** TLS material of the harness: its own certificate and key, and the CA bundle it trusts for clients. */
export interface HarnessTls {
  readonly key: string;
  readonly cert: string;
  readonly ca: string;
}

/** Serves POST /renew {csr} on 127.0.0.1:0: 401 without a verified client certificate, else the lifecycle's outcome. */
export async function startRenewHarness(lifecycle: CertificateLifecycle, tls: HarnessTls): Promise<MtlsHarness> {
  const server: Server = createServer({ ...tls, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3' }, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      const socket = req.socket as TLSSocket;
      const peer = socket.getPeerX509Certificate();
      const answer = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      };
      if (!socket.authorized || peer === undefined) {
        answer(401, { code: 'DMR_CONTROL_CERTIFICATE_REQUIRED' });
        return;
      }
      const { csr } = JSON.parse(body) as { csr: string };
      lifecycle.renew({ certificateDer: peer.raw, csr }).then(
        (outcome) => answer(outcome.ok ? 201 : 400, outcome),
        (error: unknown) => answer(500, { message: String(error) }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** POSTs `{csr}` to the harness with the client certificate `client` (none: no certificate). */
export function postRenew(
  port: number,
  ca: string,
  csr: string,
  client?: { readonly key: string; readonly cert: string },
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, method: 'POST', path: '/renew', ca, ...client, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ csr }));
  });
}
