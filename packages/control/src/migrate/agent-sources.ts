import { readFile } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
import { fileURLToPath } from 'node:url';
import { type BrokerConfig, CentOpsConfiguration, compileValidator, DmrError, describeErrors } from '@dmr/shared';
import { discoverAgentIds } from './source-names.js';

const validateRegistry = compileValidator<CentOpsConfiguration>(CentOpsConfiguration, 'DMR_REGISTRY_INVALID');
const FETCH_TIMEOUT_MS = 10_000;

/**
 * The agent ids of a CentOps registry document (`file://` or `https://`, the format of `CENTOPS_CONFIGURATION_URL`).
 * https is verified against Node's roots or `caFile`, never switched off. Throws DMR_REGISTRY_FETCH_FAILED or
 * DMR_REGISTRY_INVALID.
 */
export async function agentIdsFromRegistry(url: string, caFile?: string): Promise<string[]> {
  const text = await readRegistryText(url, caFile);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new DmrError('DMR_REGISTRY_INVALID', `agent registry ${url} is not JSON`, { cause: error });
  }
  const checked = validateRegistry(document);
  if (!checked.ok) throw new DmrError('DMR_REGISTRY_INVALID', `agent registry ${url}: ${describeErrors(checked.errors)}`);
  return [...new Set(checked.value.response.map((agent) => agent.id))];
}

async function readRegistryText(url: string, caFile: string | undefined): Promise<string> {
  const fail = (message: string, cause?: unknown) => new DmrError('DMR_REGISTRY_FETCH_FAILED', message, { cause });
  if (url.startsWith('file:')) {
    return readFile(fileURLToPath(url), 'utf8').catch((error: unknown) => Promise.reject(fail(`cannot read ${url}`, error)));
  }
  if (!url.startsWith('https:')) throw fail(`registry URL must be file:// or https://, got ${url}`);
  const ca = caFile
    ? await readFile(caFile, 'utf8').catch((error: unknown) => Promise.reject(fail(`cannot read ${caFile}`, error)))
    : undefined;
  return new Promise((resolve, reject) => {
    const request = httpsGet(url, { rejectUnauthorized: true, timeout: FETCH_TIMEOUT_MS, ...(ca ? { ca } : {}) }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        reject(fail(`agent registry answered HTTP ${response.statusCode ?? 0}`));
        return;
      }
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      response.on('error', (error) => reject(fail(`agent registry body unreadable at ${url}`, error)));
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${FETCH_TIMEOUT_MS} ms`)));
    request.on('error', (error) => reject(fail(`agent registry unreachable at ${url}: ${error.message}`, error)));
  });
}

/**
 * The agent ids whose seed-003 queues exist in the vhost, found through the management API (AMQP cannot list queues).
 * Throws DMR_ROUTE_BROKER_UNAVAILABLE when no management API answers.
 */
export async function agentIdsFromBroker(config: BrokerConfig, templates: { queue: string; deadLetters: string }): Promise<string[]> {
  const authorization = `Basic ${Buffer.from(`${config.user}:${config.password}`).toString('base64')}`;
  let lastError: unknown;
  for (const base of config.managementUris) {
    const url = `${base.replace(/\/+$/, '')}/api/queues/${encodeURIComponent(config.vhost)}?columns=name`;
    try {
      const response = await fetch(url, { headers: { authorization }, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const queues = (await response.json()) as Array<{ name?: unknown }>;
      const names = queues.map((queue) => queue.name).filter((name): name is string => typeof name === 'string');
      return discoverAgentIds(names, templates);
    } catch (error) {
      lastError = error;
    }
  }
  const reason = lastError instanceof Error ? lastError.message : 'no RABBITMQ_DEFAULT_MANAGEMENT_UI_URI';
  throw new DmrError('DMR_ROUTE_BROKER_UNAVAILABLE', `cannot list queues through the management API (${reason})`, { cause: lastError });
}
