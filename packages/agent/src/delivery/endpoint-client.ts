import { setTimeout as sleep } from 'node:timers/promises';
import { type BackoffSettings, backoffDelayMs, type DeliveredMessage } from '@dmr/shared';
import type { HttpPost, PostHeaders } from './http-post.js';

/**
 * Sent with every endpoint POST: the same value for every attempt and every redelivery of one message. An attempt
 * that timed out may still have been processed, and an agent killed between the endpoint's 2xx and its ack re-posts
 * after restart; an endpoint that must not act twice keeps the keys it has seen (IETF draft "The Idempotency-Key
 * HTTP Header Field").
 */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

/** `senderId:id`: message ids are unique per sender, so this names one message across the network. */
export function idempotencyKeyOf(message: Pick<DeliveredMessage, 'senderId' | 'id'>): string {
  return `${message.senderId}:${message.id}`;
}

/** Result of delivering one message to the local endpoint, over all attempts. */
export type EndpointResult =
  | { readonly ok: true; readonly status: number; readonly attempts: number }
  | { readonly ok: false; readonly status?: number; readonly reason: string; readonly attempts: number };

/** Settings of {@link EndpointClient}. */
export interface EndpointSettings {
  readonly endpointUrl: string;
  /** Per-attempt timeout, ms. */
  readonly attemptTimeoutMs: number;
  /** Attempts including the first (≥ 1). */
  readonly attempts: number;
  /** Delay between attempts. */
  readonly backoff: BackoffSettings;
}

/** I/O seams of {@link EndpointClient}. */
export interface EndpointIo {
  readonly post: HttpPost;
  readonly random?: () => number;
}

type AttemptResult = EndpointResult & { readonly isRetryable: boolean };

/**
 * POSTs delivered messages as JSON to `OUTGOING_MESSAGE_ENDPOINT` with a timeout per attempt and
 * bounded retries. Retries network errors, timeouts, 408, 429 and 5xx; another 4xx is final for this
 * delivery (the same request cannot succeed seconds later), though the broker may redeliver later.
 */
export class EndpointClient {
  readonly #settings: EndpointSettings;
  readonly #io: EndpointIo;

  constructor(settings: EndpointSettings, io: EndpointIo) {
    this.#settings = settings;
    this.#io = io;
  }

  /** Delivers `message`; `signal` aborts the current attempt and any backoff wait (used by a forced stop). */
  async deliver(message: DeliveredMessage, signal: AbortSignal): Promise<EndpointResult> {
    const body = JSON.stringify(message);
    const headers = { [IDEMPOTENCY_KEY_HEADER]: idempotencyKeyOf(message) };
    let last: AttemptResult = { ok: false, reason: 'not attempted', attempts: 0, isRetryable: false };
    for (let attempt = 1; attempt <= this.#settings.attempts; attempt++) {
      if (attempt > 1 && !(await this.#pause(attempt - 2, signal))) break;
      last = await this.#attempt(body, headers, attempt, signal);
      if (last.ok || !last.isRetryable) break;
    }
    const { isRetryable: _omit, ...result } = last;
    return result;
  }

  async #attempt(body: string, headers: PostHeaders, attempt: number, signal: AbortSignal): Promise<AttemptResult> {
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => controller.abort(), this.#settings.attemptTimeoutMs);
    try {
      const status = await this.#io.post(this.#settings.endpointUrl, body, controller.signal, headers);
      return classifyStatus(status, attempt);
    } catch (error) {
      const reason = this.#failureReason(error, signal.aborted, controller.signal.aborted);
      return { ok: false, reason, attempts: attempt, isRetryable: !signal.aborted };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  #failureReason(error: unknown, isShutdown: boolean, isTimeout: boolean): string {
    if (isShutdown) return 'delivery aborted by shutdown';
    if (isTimeout) return `no answer within ${this.#settings.attemptTimeoutMs} ms`;
    return networkReason(error);
  }

  /** Waits the backoff delay; false when `signal` aborted the wait. */
  async #pause(retry: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return false;
    try {
      await sleep(backoffDelayMs(retry, this.#settings.backoff, this.#io.random), undefined, { signal });
      return true;
    } catch {
      return false;
    }
  }
}

function classifyStatus(status: number, attempt: number): AttemptResult {
  if (status >= 200 && status < 300) return { ok: true, status, attempts: attempt, isRetryable: false };
  return { ok: false, status, reason: `endpoint answered HTTP ${status}`, attempts: attempt, isRetryable: isRetryableStatus(status) };
}

/** 5xx, 408 (request timeout) and 429 (too many requests) may succeed later; any other status may not. */
function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/**
 * True when the endpoint refused the message itself: a 4xx other than 408 and 429 (or any other non-2xx that is not
 * retryable). The same request cannot succeed later, so the delivery is final: the recipient agent reports
 * DMR_DELIVERY_ENDPOINT_REFUSED, which the server dead-letters at once with the status in the reason.
 */
export function isEndpointRefusal(result: EndpointResult): boolean {
  return !result.ok && result.status !== undefined && !isRetryableStatus(result.status);
}

function networkReason(error: unknown): string {
  // undici's Pool rejects with the socket error (ECONNREFUSED, ENOTFOUND …) or its own (UND_ERR_SOCKET …); fetch
  // wraps either in `cause` of a generic "fetch failed".
  const direct = error as { code?: unknown } | undefined;
  if (typeof direct?.code === 'string' && /^(E|UND_ERR_)/.test(direct.code)) return `endpoint unreachable: ${direct.code}`;
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return `endpoint unreachable: ${cause.code}`;
  return `endpoint unreachable: ${error instanceof Error ? error.message : String(error)}`;
}
