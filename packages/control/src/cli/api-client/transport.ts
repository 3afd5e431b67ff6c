// HTTPS with a client certificate to dmr-control (node:https: mTLS, keep-alive, nothing else needed). The one place
// that turns socket and TLS failures into DMR codes.
import { readFile } from 'node:fs/promises';
import { Agent, request as httpsRequest } from 'node:https';
import { DmrError } from '@dmr/shared/base';
import { errorFromResponse } from './api-error.js';
import type { ConnectionSettings } from './connection.js';

/** One request to the API: a path below the base URL (`v1/agents`), a query and a JSON body. */
export interface ApiRequest {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Overrides the connection's timeout (an import of many agents may take longer than a read). */
  readonly timeoutMs?: number;
}

/** A 2xx answer: its status, headers and body text. */
export interface ApiResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
}

/** What the client needs from the network: one request at a time, and closing the kept-alive sockets. */
export interface ApiTransport {
  send(request: ApiRequest): Promise<ApiResponse>;
  close(): void;
}

// OpenSSL verify codes that mean: dmr-control's certificate does not chain to a CA we trust
const UNTRUSTED_SERVER_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
]);

/**
 * Opens a transport to `settings.baseUrl` with the admin certificate. TLS ≥ 1.2, the server's certificate always
 * verified (against `caFile`, else Node's roots) including its host name. Throws `DMR_CONFIG_INVALID` naming a file
 * that cannot be read.
 */
export async function openTransport(settings: ConnectionSettings, signal?: AbortSignal): Promise<ApiTransport> {
  const [cert, key, ca] = await Promise.all([
    readPem(settings.certFile, '--cert / DMR_CONTROL_CERT_FILE'),
    readPem(settings.keyFile, '--key / DMR_CONTROL_KEY_FILE'),
    settings.caFile === undefined ? undefined : readPem(settings.caFile, '--ca / DMR_CONTROL_CA_FILE'),
  ]);
  const agent = new Agent({
    keepAlive: true,
    maxSockets: 4,
    cert,
    key,
    ...(ca === undefined ? {} : { ca }),
    minVersion: 'TLSv1.2',
    rejectUnauthorized: true,
  });
  return {
    send: (request) => send(agent, settings, request, signal),
    close: () => agent.destroy(),
  };
}

async function readPem(path: string, origin: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new DmrError('DMR_CONFIG_INVALID', `${origin}: cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** The URL of a request: the path resolved below the base, then the query (undefined values left out). */
export function requestUrl(baseUrl: URL, path: string, query: ApiRequest['query'] = {}): URL {
  const url = new URL(path.replace(/^\/+/, ''), baseUrl);
  for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, String(value));
  return url;
}

function send(agent: Agent, settings: ConnectionSettings, request: ApiRequest, signal?: AbortSignal): Promise<ApiResponse> {
  const url = requestUrl(settings.baseUrl, request.path, request.query);
  const body = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body));
  const timeoutMs = request.timeoutMs ?? settings.timeoutMs;
  const signals = [AbortSignal.timeout(timeoutMs), ...(signal === undefined ? [] : [signal])];
  const headers: Record<string, string> = {
    accept: 'application/json',
    ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(body.length) }),
    ...request.headers,
  };
  return new Promise<ApiResponse>((resolve, reject) => {
    const outgoing = httpsRequest(url, { method: request.method, agent, headers, signal: AbortSignal.any(signals) }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('error', (error) => reject(transportError(url, error, timeoutMs, signal)));
      incoming.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const statusCode = incoming.statusCode ?? 0;
        if (statusCode >= 200 && statusCode < 300) resolve({ statusCode, headers: incoming.headers, text });
        else reject(errorFromResponse(statusCode, text));
      });
    });
    outgoing.on('error', (error) => reject(transportError(url, error, timeoutMs, signal)));
    outgoing.end(body);
  });
}

/**
 * Names what went wrong on the way to the API: an interrupt, a timeout, dmr-control's certificate not trusted or not
 * naming the host, our certificate refused during the handshake, or no connection at all.
 */
export function transportError(url: URL, error: Error, timeoutMs: number, signal?: AbortSignal): DmrError {
  const where = `${url.origin}${url.pathname}`;
  if (signal?.aborted) return new DmrError('DMR_LIFECYCLE_SHUTTING_DOWN', `interrupted while waiting for ${where}`, { cause: error });
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const detail = code === '' || error.message.includes(code) ? error.message : `${code}: ${error.message}`;
  if (error.name === 'AbortError' || error.name === 'TimeoutError') {
    return new DmrError('DMR_CLI_API_UNREACHABLE', `no answer from ${where} within ${timeoutMs} ms (--timeout-ms)`, { cause: error });
  }
  if (UNTRUSTED_SERVER_CODES.has(code)) {
    return new DmrError(
      'DMR_CLI_API_UNREACHABLE',
      `dmr-control's certificate at ${url.origin} is not trusted (${detail}); pass the CA that signed it with --ca or DMR_CONTROL_CA_FILE`,
      { cause: error },
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new DmrError('DMR_CLI_API_UNREACHABLE', `dmr-control's certificate does not name ${url.hostname} (${detail})`, { cause: error });
  }
  if (code.startsWith('ERR_SSL_') && code.includes('ALERT')) {
    return new DmrError(
      'DMR_CLI_API_UNREACHABLE',
      `dmr-control refused the TLS handshake (${detail}): is --cert an admin certificate of its CA, unexpired and unrevoked?`,
      { cause: error },
    );
  }
  return new DmrError('DMR_CLI_API_UNREACHABLE', `cannot reach ${url.origin}: ${detail}`, { cause: error });
}
