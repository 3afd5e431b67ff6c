import { readFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pemCertificates } from '@dmr/shared';

/** TLS material of a request to the control plane; files are re-read on every request, so rotated files are picked up. */
export interface ControlTls {
  /** PEM CA bundle trusted instead of Node's root store (`DMR_CONTROL_CA_FILE`). */
  readonly caFile?: string | undefined;
  /** Client certificate and key (mutual TLS), for routes that need a role. */
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
}

/** One request to the control plane. */
export interface ControlRequest {
  readonly method: 'GET' | 'PUT';
  readonly url: string;
  readonly timeoutMs: number;
  readonly tls: ControlTls;
  /** JSON body (PUT). */
  readonly json?: unknown;
  /** Largest response body read, bytes. */
  readonly maxBytes: number;
  readonly accept: string;
}

/** What the control plane answered. */
export interface ControlResponse {
  readonly status: number;
  readonly body: Buffer;
}

/**
 * Sends one request to the control plane (or any https/http URL) and reads the whole answer, bounded by `maxBytes`.
 * TLS verification is always on and stated on the request (NODE_TLS_REJECT_UNAUTHORIZED cannot turn it off); redirects
 * are not followed. Throws a plain Error naming the cause (unreachable, TLS refused, timeout, too large, bad file);
 * the caller wraps it in its own DMR code. Any HTTP status resolves.
 */
export async function sendControlRequest(request: ControlRequest): Promise<ControlResponse> {
  const isHttps = request.url.startsWith('https:');
  const tls = isHttps ? await tlsOptions(request.tls) : {};
  const body = request.json === undefined ? undefined : Buffer.from(JSON.stringify(request.json));
  const headers: Record<string, string | number> = { accept: request.accept };
  if (body) Object.assign(headers, { 'content-type': 'application/json', 'content-length': body.byteLength });
  const send = isHttps ? httpsRequest : httpRequest;
  return new Promise<ControlResponse>((resolve, reject) => {
    const outgoing = send(request.url, { method: request.method, headers, timeout: request.timeoutMs, ...tls }, (response) => {
      readBounded(response, request.maxBytes).then((bytes) => resolve({ status: response.statusCode ?? 0, body: bytes }), reject);
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${request.timeoutMs} ms`)));
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

async function tlsOptions(tls: ControlTls): Promise<Record<string, unknown>> {
  const options: Record<string, unknown> = { rejectUnauthorized: true };
  if (tls.caFile) {
    const certificates = pemCertificates(await readText(tls.caFile, 'CA file'));
    if (certificates.length === 0 || certificates.includes('')) throw new Error(`${tls.caFile} holds no valid PEM certificate bundle`);
    options.ca = certificates;
  }
  if (tls.certFile && tls.keyFile) {
    options.cert = await readText(tls.certFile, 'client certificate');
    options.key = await readText(tls.keyFile, 'client key');
  }
  return options;
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the ${what} ${path}: ${(error as Error).message}`);
  }
}

async function readBounded(response: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      response.destroy();
      throw new Error(`the answer is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
