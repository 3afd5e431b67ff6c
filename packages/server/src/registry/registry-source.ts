import { readFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { fileURLToPath } from 'node:url';
import { DmrError, pemCertificates } from '@dmr/shared';

/** How a remote registry is fetched (see `RegistryTrust`). */
export interface RegistryFetchOptions {
  /** Allow `http://` (development only; the config refuses it without DMR_ALLOW_INSECURE_REGISTRY). Default false. */
  readonly allowInsecure?: boolean;
  /** Verify the https certificate. Default true; false only with DMR_ALLOW_INSECURE_REGISTRY and NODE_TLS_REJECT_UNAUTHORIZED=0. */
  readonly verifyTls?: boolean;
  /** PEM file of the CA(s) trusted for the registry instead of Node's root store. */
  readonly caFile?: string | undefined;
}

/** Largest registry document read, bytes: 5000 agents take ~8 MB; anything far beyond is not a registry. */
const MAX_REGISTRY_BYTES = 64 * 1024 * 1024;

/**
 * Reads the CentOps configuration document from an `https://`, `file://` or (allowed explicitly) `http://` URL.
 * The https request states `rejectUnauthorized` itself, so NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment cannot
 * turn verification off behind the registry's back; redirects are not followed (a redirect could downgrade to http).
 * Throws DMR_REGISTRY_FETCH_FAILED (unreachable, untrusted certificate, non-2xx, too large, http not allowed) or
 * DMR_REGISTRY_INVALID (not JSON).
 */
export async function fetchRegistryDocument(url: string, timeoutMs: number, options: RegistryFetchOptions = {}): Promise<unknown> {
  const text = url.startsWith('file:') ? await readLocal(url) : await readRemote(url, timeoutMs, options);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DmrError('DMR_REGISTRY_INVALID', 'agent registry is not valid JSON', { cause: error });
  }
}

async function readLocal(url: string): Promise<string> {
  try {
    return await readFile(fileURLToPath(url), 'utf8');
  } catch (error) {
    throw new DmrError('DMR_REGISTRY_FETCH_FAILED', `cannot read agent registry file ${url}`, { cause: error });
  }
}

async function readRemote(url: string, timeoutMs: number, options: RegistryFetchOptions): Promise<string> {
  const isHttps = url.startsWith('https:');
  if (!isHttps && !options.allowInsecure) {
    throw new DmrError('DMR_REGISTRY_FETCH_FAILED', `agent registry ${url} is not https:// (DMR_ALLOW_INSECURE_REGISTRY is not set)`);
  }
  const ca = isHttps && options.caFile ? await readCa(options.caFile) : undefined;
  const tls = isHttps ? { rejectUnauthorized: options.verifyTls !== false, ...(ca ? { ca } : {}) } : {};
  const send = isHttps ? httpsRequest : httpRequest;
  return new Promise<string>((resolve, reject) => {
    const fail = (message: string, cause?: unknown) => reject(new DmrError('DMR_REGISTRY_FETCH_FAILED', message, { cause }));
    const request = send(url, { method: 'GET', headers: { accept: 'application/json' }, timeout: timeoutMs, ...tls }, (response) => {
      if (!response.statusCode || response.statusCode < 200 || response.statusCode >= 300) {
        response.resume();
        fail(`agent registry answered HTTP ${response.statusCode ?? 0}`);
        return;
      }
      readBody(response).then(resolve, (error: unknown) => fail(`agent registry body unreadable at ${url}`, error));
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (error) => fail(`agent registry unreachable at ${url}: ${error.message}`, error));
    request.end();
  });
}

async function readCa(caFile: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(caFile, 'utf8');
  } catch (error) {
    throw new DmrError('DMR_REGISTRY_FETCH_FAILED', `cannot read CENTOPS_CONFIGURATION_CA_FILE ${caFile}`, { cause: error });
  }
  const certificates = pemCertificates(text);
  if (certificates.length === 0 || certificates.includes('')) {
    throw new DmrError('DMR_REGISTRY_FETCH_FAILED', `CENTOPS_CONFIGURATION_CA_FILE ${caFile} holds no valid PEM certificate bundle`);
  }
  return certificates;
}

async function readBody(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    size += (chunk as Buffer).length;
    if (size > MAX_REGISTRY_BYTES) {
      response.destroy();
      throw new Error(`larger than ${MAX_REGISTRY_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
