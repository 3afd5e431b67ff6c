// A stand-in for dmr-control's read-only GETs and the server report, as docs/control-plane.md specifies them: a real
// node:https server (the test PKI's server certificate, client certificates requested) serving `GET
// /centops/configuration` (the registry JSON with the `dmr` member), `GET /v1/crl` (a PEM bundle of one CRL per CA) and
// recording `PUT /v1/servers/{instanceId}` from clients whose certificate verified. It is not dmr-control: the
// coordinator's end-to-end test runs the real one; this one lets the server side be tested while dmr-control is built.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import amqp from 'amqplib';

/** One registered agent as the stand-in lists it. */
export interface ListedAgent {
  readonly id: string;
  readonly certificatePem: string;
}

/** What the stand-in's registry document says. */
export interface RegistryState {
  readonly agents: readonly ListedAgent[];
  /** Omitted: a seed-003 document without the `dmr` member. */
  readonly configVersion?: number;
  readonly disabled?: readonly string[];
}

/** One report the stand-in received. */
export interface ReceivedReport {
  readonly instanceId: string;
  readonly body: Record<string, unknown>;
  /** Subject CN of the client certificate that sent it. */
  readonly clientCn: string | undefined;
}

/** TLS material of the stand-in: its certificate and the CA it trusts for client certificates. */
export interface StandInTls {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

/** The stand-in control plane. */
export class ControlStandIn {
  readonly reports: ReceivedReport[] = [];
  registryFetches = 0;
  crlFetches = 0;
  /** The CRL bundle served; a function so a test can serve whatever its CA just published. */
  crlBundle: () => string = () => '';
  /** When set, every GET answers this status instead (an outage). */
  failWith: number | undefined;
  #registry: RegistryState = { agents: [] };
  #server: Server | undefined;
  url = '';

  /** Starts on 127.0.0.1, a free port. */
  async start(tls: StandInTls): Promise<this> {
    this.#server = createServer(
      { cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: false },
      (request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        request.on('end', () => {
          const answer = this.#answer(request.method ?? 'GET', request.url ?? '/', body, request.socket as TLSSocket);
          response.writeHead(answer.status, { 'content-type': answer.type }).end(answer.body);
        });
      },
    );
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    this.url = `https://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  /** What `GET /centops/configuration` serves from now on. */
  setRegistry(state: RegistryState): void {
    this.#registry = state;
  }

  /** The registry document as served. */
  registryDocument(): Record<string, unknown> {
    const now = '2026-12-07T12:00:00.000Z';
    const response = this.#registry.agents.map((agent) => ({
      id: agent.id,
      name: agent.id,
      authentication_certificate: agent.certificatePem,
      created_at: now,
      updated_at: now,
    }));
    const { configVersion, disabled } = this.#registry;
    return configVersion === undefined ? { response } : { response, dmr: { configVersion, disabled: [...(disabled ?? [])] } };
  }

  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  #answer(method: string, url: string, body: string, socket: TLSSocket): { status: number; type: string; body: string } {
    if (method === 'GET' && this.failWith !== undefined) return { status: this.failWith, type: 'text/plain', body: 'outage' };
    if (method === 'GET' && url === '/centops/configuration') {
      this.registryFetches++;
      return { status: 200, type: 'application/json', body: JSON.stringify(this.registryDocument()) };
    }
    if (method === 'GET' && url === '/v1/crl') {
      this.crlFetches++;
      return { status: 200, type: 'application/x-pem-file', body: this.crlBundle() };
    }
    const report = /^\/v1\/servers\/([^/]+)$/.exec(url);
    if (method === 'PUT' && report) {
      // the contract's `server` role needs a verified client certificate (401 DMR_CONTROL_CERTIFICATE_REQUIRED otherwise)
      if (!socket.authorized) return { status: 401, type: 'application/json', body: '{"code":"DMR_CONTROL_CERTIFICATE_REQUIRED"}' };
      const cn = socket.getPeerCertificate().subject?.CN;
      const clientCn = Array.isArray(cn) ? cn[0] : cn;
      this.reports.push({ instanceId: decodeURIComponent(report[1] ?? ''), body: JSON.parse(body) as Record<string, unknown>, clientCn });
      return { status: 200, type: 'application/json', body };
    }
    return { status: 404, type: 'text/plain', body: 'not found' };
  }
}

/** Publishes on `dmr.control` as dmr-control does (persistent, no mandatory); `body` may be anything, for hostile tests. */
export async function announce(amqpUrl: string, bodies: ReadonlyArray<Buffer | Record<string, unknown>>): Promise<void> {
  const connection = await amqp.connect(amqpUrl);
  try {
    const channel = await connection.createConfirmChannel();
    await channel.assertExchange('dmr.control', 'fanout', { durable: true });
    for (const body of bodies) {
      channel.publish('dmr.control', '', Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body)), { persistent: true });
    }
    await channel.waitForConfirms();
  } finally {
    await connection.close();
  }
}

/** An announcement body. */
export function announcement(configVersion: number, kinds: readonly string[]): Record<string, unknown> {
  return { configVersion, kinds, at: new Date().toISOString() };
}
