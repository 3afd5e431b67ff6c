import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DmrError } from '@dmr/shared';

/**
 * Reads the CentOps configuration document from an `http(s)://` or `file://` URL.
 * Throws DMR_REGISTRY_FETCH_FAILED (unreachable, non-2xx) or DMR_REGISTRY_INVALID (not JSON).
 */
export async function fetchRegistryDocument(url: string, timeoutMs: number): Promise<unknown> {
  const text = url.startsWith('file:') ? await readLocal(url) : await readRemote(url, timeoutMs);
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

async function readRemote(url: string, timeoutMs: number): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (error) {
    throw new DmrError('DMR_REGISTRY_FETCH_FAILED', `agent registry unreachable at ${url}`, { cause: error });
  }
  if (!response.ok) throw new DmrError('DMR_REGISTRY_FETCH_FAILED', `agent registry answered HTTP ${response.status}`);
  return response.text();
}
