import {
  describeErrors,
  fixedShapeLogger,
  type Logger,
  MESSAGES_EXCHANGE,
  REASON_CODE_HEADER,
  REASON_HEADER,
  type Refusal,
  refuse,
  type SendAck,
  toDmrError,
  VALIDATION_FAILURES_EXCHANGE,
  type WireMessageBody,
} from '@dmr/shared';
import type { PolicyCertificate, PolicyDecision } from '@dmr/shared/policy';
import type { BrokerConnection } from '../amqp/index.js';
import type { ServerMetrics } from '../obs/index.js';
import type { PolicyPoint } from '../policy/index.js';
import { buildFailureRecord, type InboundContext, validateInbound } from './inbound-validation.js';

/** The message's identity in its outcome line (metadata only). */
interface OutcomeIds {
  readonly msgId: string | undefined;
  readonly senderId: string;
  readonly recipientId?: string;
  readonly type?: string;
}

/** What a decision adds to the outcome line (metadata only). */
interface DecisionFields {
  readonly policyVersion: number;
  readonly ruleId?: string;
}

/** Router dependencies (ports). */
export interface RouterDeps {
  readonly broker: Pick<BrokerConnection, 'publish'>;
  readonly isKnownAgent: (agentId: string) => boolean;
  /** Agents the control plane disabled (issue 18); refused with DMR_ROUTE_RECIPIENT_DISABLED. */
  readonly isDisabledAgent?: (agentId: string) => boolean;
  readonly metrics: ServerMetrics;
  readonly log: Logger;
  /** Issue 19: the policy decision point, asked after validation and before publish; absent: every message allowed. */
  readonly policy?: Pick<PolicyPoint, 'decide'>;
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
   * Validates, asks the policy, publishes with confirm, and returns the ack for the agent. `certificate`: the identity
   * of the sender's client certificate (null without one), for the policy input. Never rejects, whatever `raw` is: a
   * failure nobody foresaw answers DMR_INTERNAL_ERROR (logged with the sender), because a rejection here would
   * escape the socket handler and could end the process for every agent (issue 15). Policy codes: DMR_POLICY_DENIED
   * (recorded in `dmr.validation-failures`), DMR_POLICY_UNAVAILABLE (fail closed); neither is published.
   */
  async route(raw: unknown, authenticatedAgentId: string, certificate: PolicyCertificate | null = null): Promise<SendAck> {
    const startedAt = performance.now();
    this.#inFlight++;
    try {
      return await this.#route(raw, authenticatedAgentId, certificate, startedAt);
    } catch (error) {
      const failure = toDmrError(error);
      this.deps.log.error({ senderId: authenticatedAgentId, err: failure }, 'routing failed unexpectedly');
      return { status: 'error', error: 'DMR_INTERNAL_ERROR', reason: 'the server failed to process the message' };
    } finally {
      this.#inFlight--;
    }
  }

  async #route(raw: unknown, authenticatedAgentId: string, certificate: PolicyCertificate | null, startedAt: number): Promise<SendAck> {
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
    let decided: DecisionFields | undefined;
    if (this.deps.policy) {
      const verdict = await this.deps.policy.decide(message, certificate);
      if (!verdict.ok) {
        this.#outcome(ids, 'failed', verdict.code, verdict.reason, startedAt);
        return { status: 'error', error: verdict.code, reason: verdict.reason };
      }
      const { decision } = verdict;
      if (!decision.allow) return await this.#deny(message, ids, decision, startedAt);
      decided = decisionFields(decision);
    }
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
      this.#outcome(ids, 'failed', failure.code, failure.message, startedAt, decided);
      return { status: 'error', error: failure.code, reason: failure.message };
    }
    this.#outcome(ids, 'queued', undefined, undefined, startedAt, decided);
    return { status: 'ok' };
  }

  /** A denied message: recorded in `dmr.validation-failures` (metadata and reason), never published; the sender gets 403. */
  async #deny(message: WireMessageBody, ids: OutcomeIds, decision: PolicyDecision, startedAt: number): Promise<SendAck> {
    const reason = denialReason(decision);
    const refusal = refuse('DMR_POLICY_DENIED', '', reason);
    const fields = decisionFields(decision);
    try {
      await this.deps.broker.publish(VALIDATION_FAILURES_EXCHANGE, '', buildFailureRecord(message, message.senderId, refusal, new Date()), {
        contentType: 'application/json',
        headers: {
          [REASON_CODE_HEADER]: 'DMR_POLICY_DENIED',
          [REASON_HEADER]: reason.slice(0, 1024),
          'x-dmr-sender': message.senderId,
          'x-dmr-policy-version': decision.policyVersion,
          ...(decision.ruleId === undefined ? {} : { 'x-dmr-policy-rule': decision.ruleId }),
        },
      });
    } catch (error) {
      this.deps.log.error({ ...ids, err: toDmrError(error) }, 'could not record policy denial');
    }
    this.#outcome(ids, 'denied', 'DMR_POLICY_DENIED', reason, startedAt, fields);
    return { status: 'error', error: 'DMR_POLICY_DENIED', reason };
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

  #outcome(
    ids: OutcomeIds,
    result: string,
    code: string | undefined,
    reason: string | undefined,
    startedAt: number,
    decided?: DecisionFields,
  ): void {
    const durationMs = Math.round((performance.now() - startedAt) * 1000) / 1000;
    this.deps.metrics.messageProcessingDuration.observe(durationMs / 1000);
    this.deps.metrics.messagesTotal.inc({ stage: 'inbound', result, code: code ?? 'none' });
    const level = result === 'queued' ? 'info' : 'warn';
    fixedShapeLogger(this.deps.log)[level]({ ...ids, stage: 'inbound', result, code, reason, durationMs, ...decided }, 'message outcome');
  }
}

function decisionFields(decision: PolicyDecision): DecisionFields {
  return decision.ruleId === undefined
    ? { policyVersion: decision.policyVersion }
    : { policyVersion: decision.policyVersion, ruleId: decision.ruleId };
}

/** `policy version 7 denies: rule no-police-to-tax (DENY_RULE)`, or `... denies: default decision (DEFAULT_DENY)`. */
export function denialReason(decision: PolicyDecision): string {
  const by = decision.ruleId === undefined ? 'default decision' : `rule ${decision.ruleId}`;
  return `policy version ${decision.policyVersion} denies: ${by} (${decision.reason})`;
}
