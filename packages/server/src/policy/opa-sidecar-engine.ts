import http from 'node:http';
import https from 'node:https';
import { DmrError } from '@dmr/shared';
import type { PolicyDecision, PolicyInput } from '@dmr/shared/policy';
import { DecisionCache, decisionCacheKey } from './decision-cache.js';
import { readOpaDecision } from './opa-result.js';
import type { PolicyData, PolicyEngine } from './policy-engine.js';

/** Defaults of the sidecar engine's options (README env table: DMR_OPA_TIMEOUT_MS, DMR_OPA_CACHE_SIZE). */
export const OPA_SIDECAR_DEFAULTS = Object.freeze({ timeoutMs: 250, cacheSize: 10_000, maxSockets: 64 });

/** Largest OPA answer read; a decision is under 200 bytes, so anything near this is not one. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** What the sidecar engine needs (the server's config maps DMR_OPA_URL, DMR_OPA_TIMEOUT_MS, DMR_OPA_CACHE_SIZE). */
export interface OpaSidecarOptions {
  /** The OPA server's base URL, e.g. `http://127.0.0.1:8181` (DMR_OPA_URL); the engine POSTs to `/v1/data/dmr/decision`. */
  readonly url: string;
  /** Whole-request deadline per decision in ms (DMR_OPA_TIMEOUT_MS); default 250. */
  readonly timeoutMs?: number;
  /** Decision cache entries (DMR_OPA_CACHE_SIZE); default 10 000, 0 turns the cache off. */
  readonly cacheSize?: number;
  /** Keep-alive sockets to OPA at most; default 64. */
  readonly maxSockets?: number;
}

/**
 * The `opa` engine (docs/policy.md "Engines"): asks an OPA server's Data API, `POST {url}/v1/data/dmr/decision`
 * with `{input}`, over keep-alive connections, and caches decisions in a bounded LRU (DecisionCache).
 * Fails closed: a timeout, a non-2xx answer, a connection error or an answer without a valid `result` rejects with
 * a DmrError DMR_POLICY_UNAVAILABLE, which the router turns into 503 and counts as `result="error"`.
 *
 * `load()` does not send the document to OPA: the sidecar reads it (as `data.dmr.policy`, with
 * `data.dmr.policyVersion`) from the bundle dmr-control serves at `GET /v1/policies/bundle.tar.gz`. `load()` only
 * clears the decision cache, so the server calls it on every `policy` announcement, as with the other engines.
 */
export class OpaSidecarEngine implements PolicyEngine {
  readonly name = 'opa' as const;
  readonly #endpoint: URL;
  readonly #timeoutMs: number;
  readonly #agent: http.Agent;
  readonly #cache: DecisionCache;
  #isClosed = false;

  constructor(options: OpaSidecarOptions) {
    const base = new URL(options.url);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new RangeError(`OPA url must be http(s), got ${options.url}`);
    this.#endpoint = new URL(`${base.pathname.replace(/\/+$/, '')}/v1/data/dmr/decision`, base);
    this.#timeoutMs = options.timeoutMs ?? OPA_SIDECAR_DEFAULTS.timeoutMs;
    if (!Number.isInteger(this.#timeoutMs) || this.#timeoutMs < 1) throw new RangeError(`timeoutMs must be an integer >= 1`);
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? OPA_SIDECAR_DEFAULTS.maxSockets };
    this.#agent = base.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.#cache = new DecisionCache(options.cacheSize ?? OPA_SIDECAR_DEFAULTS.cacheSize);
  }

  /** Entries in the decision cache now (for tests and the ready detail). */
  get cachedDecisions(): number {
    return this.#cache.size;
  }

  /**
   * The sidecar reads the document from its bundle; here a new version only clears the cache, and answers of older
   * versions (until OPA's next bundle poll) are served but not cached.
   */
  async load(data: PolicyData | undefined): Promise<void> {
    this.#cache.expectVersion(data?.version ?? 0);
  }

  /** Drops every cached decision (on `policy` announcements and registry changes). */
  invalidate(): void {
    this.#cache.clear();
  }

  /** The decision for `input`: from the cache, else from OPA. Rejects with DMR_POLICY_UNAVAILABLE when OPA cannot answer. */
  decide(input: PolicyInput): PolicyDecision | Promise<PolicyDecision> {
    if (this.#isClosed) return Promise.reject(new DmrError('DMR_POLICY_UNAVAILABLE', 'the OPA engine is closed'));
    const key = decisionCacheKey(input);
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached;
    const generation = this.#cache.generation;
    return this.#ask(input).then((decision) => {
      this.#cache.put(key, decision, generation);
      return decision;
    });
  }

  async close(): Promise<void> {
    this.#isClosed = true;
    this.#cache.clear();
    this.#agent.destroy();
  }

  async #ask(input: PolicyInput): Promise<PolicyDecision> {
    const payload = JSON.stringify({ input });
    // A keep-alive socket that OPA closed while idle fails at once with ECONNRESET: one retry on a fresh socket
    // (the Node http docs' advice for request.reusedSocket), still failing closed if that fails too.
    const { status, body } = await this.#post(payload).catch((error: unknown) => {
      if (error instanceof StaleSocketError) return this.#post(payload);
      throw error;
    });
    if (status < 200 || status >= 300) throw unavailable(`OPA answered HTTP ${status}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (error) {
      throw unavailable('OPA answered with a body that is not JSON', error);
    }
    const result = typeof parsed === 'object' && parsed !== null ? (parsed as { result?: unknown }).result : undefined;
    const read = readOpaDecision(result);
    if ('problem' in read) throw unavailable(`OPA answered without a usable result (${read.problem})`);
    return read.decision;
  }

  /** One POST under the whole-request deadline; resolves with status and body, rejects with DMR_POLICY_UNAVAILABLE. */
  #post(payload: string): Promise<{ status: number; body: string }> {
    const transport = this.#endpoint.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = transport.request(this.#endpoint, {
        method: 'POST',
        agent: this.#agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      });
      const timer = setTimeout(() => {
        request.destroy(unavailable(`OPA did not answer within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      const fail = (error: Error) => {
        clearTimeout(timer);
        if (request.reusedSocket && (error as NodeJS.ErrnoException).code === 'ECONNRESET') reject(new StaleSocketError());
        else reject(error instanceof DmrError ? error : unavailable(`OPA unreachable: ${error.message}`, error));
      };
      request.on('error', fail);
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) request.destroy(unavailable(`OPA answer larger than ${MAX_ANSWER_BYTES} bytes`));
          else chunks.push(chunk);
        });
        response.on('error', fail);
        response.on('end', () => {
          clearTimeout(timer);
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
      });
      request.end(payload);
    });
  }
}

/** A reused keep-alive socket was reset before an answer came: the request is safe to send once more. */
class StaleSocketError extends Error {}

function unavailable(message: string, cause?: unknown): DmrError {
  return new DmrError('DMR_POLICY_UNAVAILABLE', message, cause === undefined ? undefined : { cause });
}

/** Builds the `opa` engine (see OpaSidecarEngine). Throws RangeError on a bad option. */
export function createOpaSidecarEngine(options: OpaSidecarOptions): OpaSidecarEngine {
  return new OpaSidecarEngine(options);
}
