import type { AddressInfo } from 'node:net';
import { connect, createServer, type TLSSocket } from 'node:tls';

/** What the test TLS server saw of one client. */
export interface PeerSeen {
  readonly authorized: boolean;
  readonly authorizationError: string | undefined;
  readonly serial: string | undefined;
  readonly peer: ReturnType<TLSSocket['getPeerX509Certificate']>;
}

/** A TLS server on 127.0.0.1:0 that answers `ok` to every client it lets in. */
export interface ProbeServer {
  readonly port: number;
  readonly seen: PeerSeen[];
  close(): Promise<void>;
}

/** Server TLS material: PEM strings. `crl` turns on OpenSSL's CRL check for the client certificate. */
export interface ServerTls {
  readonly key: string;
  readonly cert: string;
  readonly ca: string;
  readonly crl?: string;
  /** Default true: OpenSSL's verdict refuses the client. false only to read the verdict in `seen`. */
  readonly rejectUnauthorized?: boolean;
}

/** Starts a mutual-TLS server that requests and verifies client certificates. */
export async function startProbeServer(tls: ServerTls): Promise<ProbeServer> {
  const seen: PeerSeen[] = [];
  const server = createServer(
    { ...tls, requestCert: true, rejectUnauthorized: tls.rejectUnauthorized ?? true, minVersion: 'TLSv1.2' },
    (socket) => {
      const peer = socket.getPeerX509Certificate();
      const error = socket.authorizationError;
      seen.push({
        authorized: socket.authorized,
        authorizationError: error === null ? undefined : String(error),
        serial: peer?.serialNumber,
        peer,
      });
      socket.end('ok');
    },
  );
  // a refused client makes the server socket emit an error; it is the expected outcome here
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Client TLS material; no key/cert means no client certificate. */
export interface ClientTls {
  readonly ca: string;
  readonly key?: string;
  readonly cert?: string;
  readonly servername?: string;
}

/** The outcome of one connection: let in (the server's `ok` arrived) or refused, with the client-side error. */
export interface ConnectOutcome {
  readonly accepted: boolean;
  readonly error: string | undefined;
}

/** Connects with `rejectUnauthorized: true` (server certificate and name checked) and waits for the verdict. */
export function tryConnect(port: number, tls: ClientTls): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    let data = '';
    let error: string | undefined;
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: true, ...tls });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
    });
    socket.on('error', (cause: NodeJS.ErrnoException) => {
      error = cause.code ?? cause.message;
    });
    // TLS 1.3 finishes the client side before the server has judged the client certificate,
    // so "connected" proves nothing: only the server's answer does
    socket.on('close', () => resolve({ accepted: data === 'ok', error }));
  });
}
