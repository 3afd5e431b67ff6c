import {
  describeErrors,
  fixedShapeLogger,
  type Logger,
  MESSAGES_EXCHANGE,
  REASON_CODE_HEADER,
  REASON_HEADER,
  type Refusal,
  type SendAck,
  toDmrError,
  VALIDATION_FAILURES_EXCHANGE,
} from '@dmr/shared';
import type { BrokerConnection } from '../amqp/index.js';
import type { ServerMetrics } from '../obs/index.js';
import { buildFailureRecord, type InboundContext, validateInbound } from './inbound-validation.js';

/** The message's identity in its outcome line (metadata only). */
interface OutcomeIds {
  readonly msgId: string | undefined;
  readonly senderId: string;
  readonly recipientId?: string;
  readonly type?: string;
}

/** Router dependencies (ports). */
export interface RouterDeps {
  readonly broker: Pick<BrokerConnection, 'publish'>;
  readonly isKnownAgent: (agentId: string) => boolean;
  /** Agents the control plane disabled (issue 18); refused with DMR_ROUTE_RECIPIENT_DISABLED. */
  readonly isDisabledAgent?: (agentId: string) => boolean;
  readonly metrics: ServerMetrics;
  readonly log: Logger;
}

/**
 * Takes a message from an authenticated agent and answers only when its fate is settled:
 * `ok` once RabbitMQ confirmed it durably, `error` with a code and reason otherwise
 * (refusals are also recorded in `dmr.validation-failures`).
 */
export class MessageRouter {
  #inFlight = 0;

  constructor(
    private readonly deps: RouterDeps,
    private readonly maxMessageBytes: number,
  ) {}

  /** Messages accepted from agents and not yet answered. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Validates, publishes with confirm, and returns the ack for the agent. Never rejects, whatever `raw` is: a
   * failure nobody foresaw answers DMR_INTERNAL_ERROR (logged with the sender), because a rejection here would
   * escape the socket handler and could end the process for every agent (issue 15).
   */
  async route(raw: unknown, authenticatedAgentId: string): Promise<SendAck> {
    const startedAt = performance.now();
    this.#inFlight++;
    try {
      return await this.#route(raw, authenticatedAgentId, startedAt);
    } catch (error) {
      const failure = toDmrError(error);
      this.deps.log.error({ senderId: authenticatedAgentId, err: failure }, 'routing failed unexpectedly');
      return { status: 'error', error: 'DMR_INTERNAL_ERROR', reason: 'the server failed to process the message' };
    } finally {
      this.#inFlight--;
    }
  }

  async #route(raw: unknown, authenticatedAgentId: string, startedAt: number): Promise<SendAck> {
    const context: InboundContext = {
      authenticatedAgentId,
      isKnownAgent: this.deps.isKnownAgent,
      ...(this.deps.isDisabledAgent ? { isDisabledAgent: this.deps.isDisabledAgent } : {}),
      maxMessageBytes: this.maxMessageBytes,
    };
    const checked = validateInbound(raw, context);
    if (!checked.ok) return await this.#refuse(raw, authenticatedAgentId, checked, startedAt);
    const { message, body } = checked.value;
    const ids: OutcomeIds = { msgId: message.id, senderId: message.senderId, recipientId: message.recipientId, type: message.type };
    try {
      await this.deps.broker.publish(MESSAGES_EXCHANGE, message.recipientId, body, {
        messageId: message.id,
        type: message.type,
        contentType: 'application/json',
        timestamp: Math.floor(Date.now() / 1000),
        headers: { 'x-dmr-sender': message.senderId },
      });
    } catch (error) {
      const failure = toDmrError(error);
      this.#outcome(ids, 'failed', failure.code, failure.message, startedAt);
      return { status: 'error', error: failure.code, reason: failure.message };
    }
    this.#outcome(ids, 'queued', undefined, undefined, startedAt);
    return { status: 'ok' };
  }

  async #refuse(raw: unknown, agentId: string, refusal: Refusal, startedAt: number): Promise<SendAck> {
    const reason = describeErrors(refusal.errors);
    const id = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>).id : undefined;
    const ids: OutcomeIds = { msgId: typeof id === 'string' ? id.slice(0, 128) : undefined, senderId: agentId };
    try {
      await this.deps.broker.publish(VALIDATION_FAILURES_EXCHANGE, '', buildFailureRecord(raw, agentId, refusal, new Date()), {
        contentType: 'application/json',
        headers: { [REASON_CODE_HEADER]: refusal.code, [REASON_HEADER]: reason.slice(0, 1024), 'x-dmr-sender': agentId },
      });
    } catch (error) {
      this.deps.log.error({ ...ids, err: toDmrError(error) }, 'could not record validation failure');
    }
    this.#outcome(ids, 'refused', refusal.code, reason, startedAt);
    return { status: 'error', error: refusal.code, reason };
  }

  #outcome(ids: OutcomeIds, result: string, code: string | undefined, reason: string | undefined, startedAt: number): void {
    const durationMs = Math.round((performance.now() - startedAt) * 1000) / 1000;
    this.deps.metrics.messageProcessingDuration.observe(durationMs / 1000);
    this.deps.metrics.messagesTotal.inc({ stage: 'inbound', result, code: code ?? 'none' });
    const level = result === 'queued' ? 'info' : 'warn';
    fixedShapeLogger(this.deps.log)[level]({ ...ids, stage: 'inbound', result, code, reason, durationMs }, 'message outcome');
  }
}
