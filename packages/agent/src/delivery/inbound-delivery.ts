import {
  compileValidator,
  type DeliveredMessage,
  DeliveredWireSchema,
  type DeliveryAck,
  type DmrErrorCode,
  deliveryErrorOf,
  describeErrors,
  type FieldError,
  isTransientCode,
  type KeyAgreements,
  openEnvelope,
  type PrivateKeyRef,
  pickWireFields,
  V1RelayedPayload,
  type WireMessageBody,
} from '@dmr/shared';
import type { PeerKeyLookup } from '../link/index.js';
import type { MessageOutcome, OutcomeSink } from '../obs/index.js';
import { CANCELLED, ChatSequencer } from './chat-sequencer.js';
import { DedupWindow, DeliveryGate, type GateRun } from './dedup-window.js';
import { splitDeadline } from './delivery-deadline.js';
import { type EndpointResult, isEndpointRefusal } from './endpoint-client.js';

/** Port: posts a decrypted message to the local endpoint (implemented by `EndpointClient`). */
export interface EndpointPort {
  deliver(message: DeliveredMessage, signal: AbortSignal): Promise<EndpointResult>;
}

/** What inbound delivery needs from the rest of the agent. */
export interface InboundDeps {
  readonly agentId: string;
  readonly privateKey: PrivateKeyRef;
  /** The key of a listed agent if this agent trusts it (see `AgentDirectory`). */
  readonly lookupKey: (agentId: string) => PeerKeyLookup;
  readonly endpoint: EndpointPort;
  readonly outcomes: OutcomeSink;
  /** Called once per suppressed duplicate (metrics). */
  readonly onDuplicate: () => void;
  /** `agreedKeys`: ECDH-ES agreements remembered by `epk` (default: one agreement per message). */
  readonly agreements?: KeyAgreements;
  /** Called for every message accepted although its signature does not cover its metadata (metrics and log). */
  readonly onUnboundAccepted?: (accepted: UnboundAccepted) => void;
}

/** Why an unbound (`{data}`-only signed) message was accepted: its sender is legacy, or the global switch is on. */
export type UnboundBasis = 'legacy-sender' | 'all-senders';

/** An accepted unbound message: metadata only, never content. */
export interface UnboundAccepted {
  readonly msgId: string;
  readonly senderId: string;
  readonly recipientId: string;
  readonly basis: UnboundBasis;
}

/** Settings of inbound delivery (a slice of `DeliveryConfig`). */
export interface InboundSettings {
  readonly dedupWindowSize: number;
  /** Accept `{data}`-only signed payloads from every sender (`AGENT_ALLOW_UNBOUND_METADATA`; lowers the bar for all). */
  readonly allowUnboundMetadata: boolean;
  /**
   * Senders whose `{data}`-only signed payloads are accepted: seed-003 agents (`DMR_LEGACY_AGENT_IDS`, the same list
   * that trusts their bare keys). Local configuration, never the relay's word.
   */
  readonly legacySenderIds?: ReadonlySet<string>;
  /** See {@link ChatSequencer}: how long a chat waits for a failed message to come back, ms. */
  readonly chatOrderHoldMs: number;
}

/** The ack plus the outcome fields it stands for. */
interface Processed {
  readonly ack: DeliveryAck;
  readonly code?: DmrErrorCode;
  readonly reason?: string;
}

// what a server delivers: seed 003's server adds receivedAt (and a server may add more), dropped by pickWireFields
const checkWire = compileValidator<WireMessageBody>(DeliveredWireSchema, 'DMR_DELIVERY_INVALID_MESSAGE');
// relayed payloads keep the lenient id grammar: a seed-003 sender's chat and message ids need not be UUIDs
const checkPayload = compileValidator<DeliveredMessage['payload']>(V1RelayedPayload, 'DMR_DELIVERY_INVALID_MESSAGE');
const OK: DeliveryAck = { status: 'ok' };
/** Returned by a lane task instead of posting: the delivery's deadline passed while it waited for its turn. */
const EXPIRED: unique symbol = Symbol('expired');

/** The metadata an outcome line carries; every field may be missing on an invalid message. */
interface OutcomeMetadata {
  readonly id?: string | undefined;
  readonly senderId?: string | undefined;
  readonly recipientId?: string | undefined;
  readonly type?: string | undefined;
}

/**
 * The inbound path: validate → deduplicate → verify+decrypt → wait for the chat's turn → POST to the endpoint → ack.
 * An ok ack is sent only after the endpoint answered 2xx, so the server acks RabbitMQ only then. Messages of one
 * chat (sender + `payload.chat.id`) reach the endpoint one at a time in arrival order ({@link ChatSequencer}).
 * Error acks carry (in `code`, with seed 003's `type` beside it) one of DMR_DELIVERY_INVALID_MESSAGE, DMR_CRYPTO_UNKNOWN_SENDER, DMR_CRYPTO_PEER_KEY_UNTRUSTED, DMR_CRYPTO_DECRYPT_FAILED,
 * DMR_CRYPTO_SIGNATURE_INVALID, DMR_CRYPTO_METADATA_MISMATCH, DMR_CRYPTO_UNBOUND_METADATA,
 * DMR_DELIVERY_ENDPOINT_FAILED, DMR_DELIVERY_ENDPOINT_REFUSED, DMR_DELIVERY_EXPIRED or DMR_LIFECYCLE_SHUTTING_DOWN.
 */
export class InboundDelivery {
  readonly #settings: InboundSettings;
  readonly #deps: InboundDeps;
  readonly #gate: DeliveryGate<Processed>;
  readonly #sequencer: ChatSequencer;
  readonly #abort = new AbortController();
  #isShuttingDown = false;

  constructor(settings: InboundSettings, deps: InboundDeps) {
    this.#settings = settings;
    this.#deps = deps;
    this.#gate = new DeliveryGate(new DedupWindow(settings.dedupWindowSize), (processed) => processed.ack.status === 'ok');
    this.#sequencer = new ChatSequencer({ holdMs: settings.chatOrderHoldMs });
  }

  /** Handles one `dmr:agents:message-from-dmr-server` message and returns its ack. Never throws. */
  async handle(delivery: unknown): Promise<DeliveryAck> {
    const startedAt = performance.now();
    const { message, expiresInMs } = splitDeadline(delivery);
    // a monotonic deadline: the server's and this host's clocks need not agree
    const deadline = expiresInMs === undefined ? undefined : startedAt + expiresInMs;
    const checked = this.#check(message);
    if (!checked.ok) {
      this.#record(metadataOf(message), startedAt, checked);
      return checked.ack;
    }
    const wire = checked.wire;
    if (this.#isShuttingDown) {
      const refused = failure('DMR_LIFECYCLE_SHUTTING_DOWN', 'the agent is shutting down; redeliver later');
      this.#record(wire, startedAt, refused);
      return refused.ack;
    }
    let run: GateRun<Processed>;
    try {
      run = await this.#gate.run(`${wire.senderId}:${wire.id}`, () => this.#process(wire, deadline));
    } catch (error) {
      run = { kind: 'ran', result: failure('DMR_INTERNAL_ERROR', error instanceof Error ? error.message : String(error)) };
    }
    return this.#finish(wire, startedAt, run);
  }

  /**
   * Refuses new messages from now on (ack DMR_LIFECYCLE_SHUTTING_DOWN, which the server delivers again later),
   * and so are messages still waiting for their chat's turn; deliveries already posting finish.
   */
  beginShutdown(): void {
    this.#isShuttingDown = true;
    this.#sequencer.close();
  }

  /** Resolves when no delivery is in flight. */
  drain(): Promise<void> {
    return this.#gate.drain();
  }

  /** Cancels endpoint attempts and backoff waits of in-flight deliveries (forced stop or drain deadline). */
  abort(): void {
    this.#abort.abort();
  }

  #check(message: unknown): { ok: true; wire: WireMessageBody } | (Processed & { ok: false }) {
    const valid = checkWire(message);
    if (!valid.ok) return { ok: false, ...failure('DMR_DELIVERY_INVALID_MESSAGE', describeErrors(valid.errors)) };
    if (valid.value.recipientId !== this.#deps.agentId) {
      return { ok: false, ...failure('DMR_DELIVERY_INVALID_MESSAGE', `recipientId ${valid.value.recipientId} is not this agent`) };
    }
    return { ok: true, wire: pickWireFields(valid.value) };
  }

  #finish(wire: WireMessageBody, startedAt: number, run: GateRun<Processed>): DeliveryAck {
    // A redelivery that joined a successful in-flight attempt is a duplicate too; a failed one shares the failure.
    const isDuplicate = run.kind === 'duplicate' || (run.kind === 'joined' && run.result.ack.status === 'ok');
    if (isDuplicate) {
      this.#deps.onDuplicate();
      this.#deps.outcomes.record({ ...outcomeBase(wire, startedAt), result: 'duplicate' });
      return OK;
    }
    this.#record(wire, startedAt, run.result);
    return run.result.ack;
  }

  async #process(wire: WireMessageBody, deadline: number | undefined): Promise<Processed> {
    // taken before the first await, so places follow arrival order although decryption runs concurrently
    const ticket = this.#sequencer.ticket();
    try {
      const opened = await this.#open(wire);
      if (!opened.ok) return opened.failure;
      const result = await ticket.admit(
        `${wire.senderId}\n${opened.delivered.payload.chat.id}`,
        `${wire.senderId}:${wire.id}`,
        () => this.#post(opened.delivered, deadline),
        // a failed message comes back (the server retries it in place): its chat waits for it; a refused one is
        // dead-lettered at once and never comes back, so its chat goes on
        (endpointResult) => (endpointResult === EXPIRED || endpointResult.ok || isEndpointRefusal(endpointResult) ? 'next' : 'park'),
      );
      if (result === CANCELLED) return failure('DMR_LIFECYCLE_SHUTTING_DOWN', 'the agent is shutting down; redeliver later');
      if (result === EXPIRED)
        return failure('DMR_DELIVERY_EXPIRED', 'held past the message TTL behind an earlier message of its chat; not delivered');
      if (result.ok) return { ack: OK };
      // cut short by this agent's own stop: a restart, which the server must not count as a failed attempt
      if (this.#abort.signal.aborted) return failure('DMR_LIFECYCLE_SHUTTING_DOWN', 'the agent stopped during delivery; redeliver later');
      // a 4xx (not 408/429) is the endpoint's verdict on this message: final, dead-lettered at once (issue 21)
      if (isEndpointRefusal(result)) return failure('DMR_DELIVERY_ENDPOINT_REFUSED', `${result.reason}; not retried`);
      return failure('DMR_DELIVERY_ENDPOINT_FAILED', `${result.reason} (after ${result.attempts} attempt(s))`);
    } finally {
      ticket.cancel();
    }
  }

  /**
   * Posts unless the deadline the server gave passed while the message waited for its chat's turn (issue 15, finding
   * 17): the server dead-letters it then, so posting it too would put it in two places. A post started before the
   * deadline runs to its end; the server waits for its answer (`DMR_DELIVERY_ACK_TIMEOUT_MS` past the TTL).
   */
  #post(delivered: DeliveredMessage, deadline: number | undefined): Promise<EndpointResult | typeof EXPIRED> {
    if (deadline !== undefined && performance.now() >= deadline) return Promise.resolve(EXPIRED);
    return this.#deps.endpoint.deliver(delivered, this.#abort.signal);
  }

  /** Verifies and decrypts the payload and checks it is a v1 payload. */
  async #open(wire: WireMessageBody): Promise<{ ok: true; delivered: DeliveredMessage } | { ok: false; failure: Processed }> {
    const sender = this.#deps.lookupKey(wire.senderId);
    if (sender.status === 'unknown' || sender.status === 'disabled') {
      return { ok: false, failure: failure('DMR_CRYPTO_UNKNOWN_SENDER', `no public key known for sender ${wire.senderId}`) };
    }
    if (sender.status === 'untrusted') {
      const reason = `the key the DMR server distributed for sender ${wire.senderId} is not trusted: ${sender.reason}`;
      return { ok: false, failure: failure('DMR_CRYPTO_PEER_KEY_UNTRUSTED', reason) };
    }
    const unboundBasis = unboundBasisFor(wire.senderId, this.#settings);
    const opened = await openEnvelope(wire.payload, wire, {
      recipientKey: this.#deps.privateKey,
      senderKey: sender.key,
      allowUnboundMetadata: unboundBasis !== undefined,
      agreements: this.#deps.agreements,
    });
    if (!opened.ok) return { ok: false, failure: failure(opened.code, describeErrors(opened.errors)) };
    const payload = checkPayload(opened.value.data);
    if (!payload.ok) return { ok: false, failure: failure('DMR_DELIVERY_INVALID_MESSAGE', prefixed('payload', payload.errors)) };
    const { id, senderId, recipientId, timestamp, type } = wire;
    if (!opened.value.isBound && unboundBasis !== undefined) {
      this.#deps.onUnboundAccepted?.({ msgId: id, senderId, recipientId, basis: unboundBasis });
    }
    return { ok: true, delivered: { id, senderId, recipientId, timestamp, type, payload: payload.value } };
  }

  #record(metadata: OutcomeMetadata, startedAt: number, processed: Processed): void {
    const code = processed.code;
    const result = code === undefined ? 'delivered' : resultOfFailure(code);
    this.#deps.outcomes.record({ ...outcomeBase(metadata, startedAt), result, code, reason: processed.reason });
  }
}

/** An error ack both a DMR server (reads `code`) and a seed-003 server (reads `type`) act on (issue 16). */
function failure(code: DmrErrorCode, reason: string): Processed {
  return { ack: { status: 'error', errors: [deliveryErrorOf(code, reason)] }, code, reason };
}

/**
 * Whether a `{data}`-only signed payload from `senderId` may be accepted, and on what basis. Pure. A legacy sender
 * (seed 003) is named as such even when the global switch is on, so the count shows who still needs it.
 */
export function unboundBasisFor(
  senderId: string,
  settings: Pick<InboundSettings, 'allowUnboundMetadata' | 'legacySenderIds'>,
): UnboundBasis | undefined {
  if (settings.legacySenderIds?.has(senderId)) return 'legacy-sender';
  return settings.allowUnboundMetadata ? 'all-senders' : undefined;
}

function prefixed(prefix: string, errors: readonly FieldError[]): string {
  return describeErrors(errors.map((e) => ({ path: e.path ? `${prefix}.${e.path}` : prefix, message: e.message })));
}

function outcomeBase(metadata: OutcomeMetadata, startedAt: number): Omit<MessageOutcome, 'result'> {
  return {
    direction: 'inbound',
    msgId: metadata.id,
    senderId: metadata.senderId,
    recipientId: metadata.recipientId,
    type: metadata.type,
    durationMs: performance.now() - startedAt,
  };
}

/** Metadata of a message that failed validation, for the outcome log line: only string fields, never the payload. */
function metadataOf(message: unknown): OutcomeMetadata {
  if (typeof message !== 'object' || message === null) return {};
  const record = message as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, 128) : undefined);
  return { id: text(record.id), senderId: text(record.senderId), recipientId: text(record.recipientId), type: text(record.type) };
}

/** Transient failures are retried by the broker (`failed`); permanent ones end dead-lettered (`refused`). */
function resultOfFailure(code: DmrErrorCode): 'failed' | 'refused' {
  return isTransientCode(code) ? 'failed' : 'refused';
}
