import {
  compileValidator,
  type DmrErrorCode,
  describeErrors,
  type EnvelopeMetadata,
  type FieldError,
  isTransientCode,
  type KeyAgreements,
  type KeyManagementAlgorithm,
  keyWrapFor,
  type PrivateKeyRef,
  type PublicKeyRef,
  sealPayload,
  V1MessageBody,
  type WireMessage,
} from '@dmr/shared';
import type { LinkState, PeerKeyLookup, SendOutcome } from '../link/index.js';
import type { MessageResult, OutcomeSink } from '../obs/index.js';

/** Port: the link to the DMR server. */
export interface SendPort {
  readonly state: LinkState;
  send(message: WireMessage): Promise<SendOutcome>;
}

/** What the outbound path needs. */
export interface OutboundDeps {
  readonly agentId: string;
  readonly privateKey: PrivateKeyRef;
  /** The key of a listed agent if this agent trusts it (see `AgentDirectory`); unknown agents are not valid recipients. */
  readonly lookupKey: (agentId: string) => PeerKeyLookup;
  readonly link: SendPort;
  readonly outcomes: OutcomeSink;
  /** Sends processed at once (validate, seal, wait for the server); beyond it {@link OutboundSender.send} refuses at once. */
  readonly maxInFlight: number;
  /** The event loop's current delay, ms (see {@link LoopDelayGauge}); with `maxLoopDelayMs` > 0, above it the sender refuses. */
  readonly loopDelayMs?: () => number;
  readonly maxLoopDelayMs?: number;
  /** `ephemeralKeys`: ECDH-ES ephemeral keys reused per recipient (default: a fresh one per message). */
  readonly agreements?: KeyAgreements;
}

/** `Retry-After` (seconds) of a DMR_LINK_BACKPRESSURE answer: long enough for the window to drain at any sane throughput. */
export const BACKPRESSURE_RETRY_AFTER_S = 1;

/** Outcome of one `POST /v1/messages`, mapped to HTTP by the route. */
export type OutboundResult =
  | { readonly ok: true; readonly id: string }
  | {
      readonly ok: false;
      readonly code: DmrErrorCode;
      readonly message: string;
      readonly errors?: readonly FieldError[];
      /** Set for DMR_LINK_REJECTED and the retry-later server codes (DMR_ROUTE_AGENT_BUSY, DMR_ROUTE_QUEUE_FULL): the server's reason and code. */
      readonly reason?: string;
      readonly serverCode?: string;
    };

type Failure = Extract<OutboundResult, { ok: false }>;

const checkBody = compileValidator<V1MessageBody>(V1MessageBody);

/**
 * The outbound path: validate the v1 body, sign+encrypt it to the recipient, emit it and wait for
 * the server's confirmation. At most `maxInFlight` sends are processed at once: above that the sender
 * refuses at once with DMR_LINK_BACKPRESSURE instead of queueing work that would only time out.
 * Codes: DMR_VALIDATION_FAILED, DMR_VALIDATION_UNKNOWN_RECIPIENT, DMR_ROUTE_RECIPIENT_DISABLED, DMR_CRYPTO_PEER_KEY_UNTRUSTED, DMR_LINK_NOT_CONNECTED, DMR_LINK_REJECTED,
 * DMR_LINK_TIMEOUT, DMR_LINK_BACKPRESSURE, DMR_LIFECYCLE_SHUTTING_DOWN, DMR_INTERNAL_ERROR.
 */
export class OutboundSender {
  readonly #deps: OutboundDeps;
  readonly #inflight = new Set<Promise<OutboundResult>>();
  #isShuttingDown = false;

  constructor(deps: OutboundDeps) {
    this.#deps = deps;
  }

  /** Sends one message body (unparsed JSON). Never throws. */
  async send(body: unknown): Promise<OutboundResult> {
    const startedAt = performance.now();
    const refused = this.#admit();
    if (refused) {
      this.#record(body, startedAt, refused);
      return refused;
    }
    const attempt = this.#forward(body);
    this.#inflight.add(attempt);
    try {
      const result = await attempt;
      this.#record(body, startedAt, result);
      return result;
    } finally {
      this.#inflight.delete(attempt);
    }
  }

  /**
   * Records the outcome of a request whose body never reached {@link send} (too large, not JSON, or refused by
   * admission before it was read), so every refused message still gets its one outcome line and count.
   */
  recordUnreadable(code: DmrErrorCode, reason: string, durationMs: number): void {
    const result = isTransientCode(code) ? 'failed' : 'refused';
    this.#deps.outcomes.record({ direction: 'outbound', result, senderId: this.#deps.agentId, code, reason, durationMs });
  }

  /**
   * The refusal {@link send} would answer right now whatever the body (shutting down, window full), else undefined.
   * Lets the HTTP layer answer before reading and parsing the body: under overload that work is what the refusal saves.
   */
  admissionRefusal(): Failure | undefined {
    return this.#admit();
  }

  /** Sends being processed right now. */
  get inFlight(): number {
    return this.#inflight.size;
  }

  /** Refuses new messages from now on with DMR_LIFECYCLE_SHUTTING_DOWN. */
  beginShutdown(): void {
    this.#isShuttingDown = true;
  }

  /** Resolves when every accepted-for-processing send has its answer. */
  async drain(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  /** Admission control: a failure when the sender takes no more work right now, else undefined. */
  #admit(): Failure | undefined {
    if (this.#isShuttingDown) return failure('DMR_LIFECYCLE_SHUTTING_DOWN', 'the agent is shutting down and takes no new messages');
    if (this.#inflight.size >= this.#deps.maxInFlight) {
      return failure(
        'DMR_LINK_BACKPRESSURE',
        `${this.#inflight.size} sends are in flight (DMR_MAX_IN_FLIGHT_SENDS); retry after ${BACKPRESSURE_RETRY_AFTER_S} s`,
      );
    }
    const maxDelay = this.#deps.maxLoopDelayMs ?? 0;
    const delay = maxDelay > 0 && this.#deps.loopDelayMs ? this.#deps.loopDelayMs() : 0;
    if (delay > maxDelay) {
      return failure(
        'DMR_LINK_BACKPRESSURE',
        `the agent is saturated: its event loop runs ${Math.round(delay)} ms late (DMR_MAX_EVENT_LOOP_DELAY_MS ${maxDelay}); retry after ${BACKPRESSURE_RETRY_AFTER_S} s`,
      );
    }
    return undefined;
  }

  async #forward(body: unknown): Promise<OutboundResult> {
    const valid = checkBody(body);
    if (!valid.ok) return failure('DMR_VALIDATION_FAILED', `invalid message: ${describeErrors(valid.errors)}`, valid.errors);
    const message = valid.value;
    // Checked before the recipient: an agent that never connected has no agent list, and "unknown recipient" would mislead.
    if (this.#deps.link.state !== 'connected') return failure('DMR_LINK_NOT_CONNECTED', 'the agent has no live connection to a DMR server');
    const recipient = this.#deps.lookupKey(message.recipientId);
    if (recipient.status === 'unknown') {
      const errors = [{ path: 'recipientId', message: `${message.recipientId} is not a known agent` }];
      return failure('DMR_VALIDATION_UNKNOWN_RECIPIENT', `unknown recipient ${message.recipientId}`, errors);
    }
    if (recipient.status === 'disabled') {
      const errors = [{ path: 'recipientId', message: `${message.recipientId} is disabled in the control plane` }];
      return failure('DMR_ROUTE_RECIPIENT_DISABLED', `recipient ${message.recipientId} is disabled; nothing was sent`, errors);
    }
    if (recipient.status === 'untrusted') {
      // nothing is encrypted to a key the relay handed out without the CA's word for it
      return failure(
        'DMR_CRYPTO_PEER_KEY_UNTRUSTED',
        `the key the DMR server distributed for ${message.recipientId} is not trusted: ${recipient.reason}`,
      );
    }
    try {
      const wire = await this.#seal(message, recipient.key, keyWrapFor(recipient.key.kind, recipient.capabilities));
      return fromSendOutcome(message.id, await this.#deps.link.send(wire));
    } catch (error) {
      return failure('DMR_INTERNAL_ERROR', `cannot seal the message: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** `keyWrap`: RSA-OAEP unless the recipient announced RSA-OAEP-256 (seed-003 agents open only RSA-OAEP). */
  async #seal(message: V1MessageBody, recipientKey: PublicKeyRef, keyWrap: KeyManagementAlgorithm): Promise<WireMessage> {
    const metadata: EnvelopeMetadata = {
      id: message.id,
      senderId: this.#deps.agentId,
      recipientId: message.recipientId,
      type: message.type,
      timestamp: message.timestamp,
    };
    const payload = await sealPayload(metadata, message.payload, this.#deps.privateKey, recipientKey, this.#deps.agreements, keyWrap);
    return { ...metadata, payload };
  }

  #record(body: unknown, startedAt: number, result: OutboundResult): void {
    const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, 128) : undefined);
    this.#deps.outcomes.record({
      direction: 'outbound',
      result: resultOf(result),
      msgId: text(fields.id),
      senderId: this.#deps.agentId,
      recipientId: text(fields.recipientId),
      type: text(fields.type),
      code: result.ok ? undefined : result.code,
      reason: result.ok ? undefined : (result.reason ?? result.message),
      durationMs: performance.now() - startedAt,
    });
  }
}

/** Transient failures are the caller's to retry (`failed`); permanent ones need a fixed request (`refused`). */
function resultOf(result: OutboundResult): MessageResult {
  if (result.ok) return 'accepted';
  return isTransientCode(result.code) ? 'failed' : 'refused';
}

function fromSendOutcome(id: string, outcome: SendOutcome): OutboundResult {
  if (outcome.ok) return { ok: true, id };
  if ('serverCode' in outcome) {
    return { ok: false, code: outcome.code, message: outcome.message, reason: outcome.reason, serverCode: outcome.serverCode };
  }
  return failure(outcome.code, outcome.message);
}

function failure(code: DmrErrorCode, message: string, errors?: readonly FieldError[]): Failure {
  return errors ? { ok: false, code, message, errors } : { ok: false, code, message };
}
