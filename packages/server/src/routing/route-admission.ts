import { fixedShapeLogger, type Logger, type SendAck } from '@dmr/shared';
import type { PolicyCertificate } from '@dmr/shared/policy';
import type { ServerMetrics } from '../obs/index.js';

/** What {@link RouteAdmission} guards: the router's one entry point. */
export interface RoutePort {
  route(raw: unknown, authenticatedAgentId: string, certificate?: PolicyCertificate | null): Promise<SendAck>;
}

/** Counts in flight per key; pure (no I/O, no clock), so the cap is unit-tested exactly. */
export class InFlightCounter {
  readonly #counts = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Takes a slot for `key`; false when `key` already holds `max`. */
  tryAcquire(key: string): boolean {
    const count = this.#counts.get(key) ?? 0;
    if (count >= this.max) return false;
    this.#counts.set(key, count + 1);
    return true;
  }

  /** Gives back a slot of `key`; keys at zero are forgotten, so the map holds only agents with work in flight. */
  release(key: string): void {
    const count = (this.#counts.get(key) ?? 0) - 1;
    if (count > 0) this.#counts.set(key, count);
    else this.#counts.delete(key);
  }

  /** Slots `key` holds now. */
  countOf(key: string): number {
    return this.#counts.get(key) ?? 0;
  }
}

/**
 * Caps the messages one agent may have in flight on this instance (validated, waiting for RabbitMQ's confirm).
 * Without it one socket could start routes without bound (an ack is not needed to send the next message) and hold
 * the instance's memory and confirm window. Over the cap the message is refused at once with the transient
 * DMR_ROUTE_AGENT_BUSY: nothing was queued, the sending agent answers its caller 503 with `Retry-After`.
 * Never throws.
 */
export class RouteAdmission implements RoutePort {
  readonly #counter: InFlightCounter;

  constructor(
    private readonly router: RoutePort,
    private readonly deps: { readonly metrics: ServerMetrics; readonly log: Logger },
    private readonly maxInFlightPerAgent: number,
  ) {
    this.#counter = new InFlightCounter(maxInFlightPerAgent);
  }

  /** Routes `raw` when the agent has a free slot, else answers DMR_ROUTE_AGENT_BUSY. */
  async route(raw: unknown, authenticatedAgentId: string, certificate: PolicyCertificate | null = null): Promise<SendAck> {
    if (!this.#counter.tryAcquire(authenticatedAgentId)) return this.#refuse(raw, authenticatedAgentId);
    try {
      return await this.router.route(raw, authenticatedAgentId, certificate);
    } finally {
      this.#counter.release(authenticatedAgentId);
    }
  }

  #refuse(raw: unknown, senderId: string): SendAck {
    const reason = `${this.maxInFlightPerAgent} messages of this agent are already in flight on this server (DMR_MAX_IN_FLIGHT_PER_AGENT); nothing was queued, retry later`;
    const id = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>).id : undefined;
    const msgId = typeof id === 'string' ? id.slice(0, 128) : undefined;
    this.deps.metrics.messagesTotal.inc({ stage: 'inbound', result: 'failed', code: 'DMR_ROUTE_AGENT_BUSY' });
    // the same one outcome line per message as the router writes (metadata only)
    fixedShapeLogger(this.deps.log).warn(
      { msgId, senderId, stage: 'inbound', result: 'failed', code: 'DMR_ROUTE_AGENT_BUSY', reason, durationMs: 0 },
      'message outcome',
    );
    return { status: 'error', error: 'DMR_ROUTE_AGENT_BUSY', reason };
  }
}
