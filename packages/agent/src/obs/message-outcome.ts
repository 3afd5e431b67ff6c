import { fixedShapeLogger, type Logger } from '@dmr/shared';
import type { AgentMetrics, MessageDirection } from './agent-metrics.js';

/**
 * How a message ended at this agent:
 * `accepted` (server confirmed it durable), `delivered` (endpoint answered 2xx),
 * `duplicate` (already delivered, acknowledged without posting), `refused` (permanent error),
 * `failed` (transient error: the caller or the broker retries).
 */
export type MessageResult = 'accepted' | 'delivered' | 'duplicate' | 'refused' | 'failed';

/** One message outcome: metadata only, never content or the JWE. */
export interface MessageOutcome {
  readonly direction: MessageDirection;
  readonly result: MessageResult;
  readonly msgId?: string | undefined;
  readonly senderId?: string | undefined;
  readonly recipientId?: string | undefined;
  readonly type?: string | undefined;
  /** DMR error code; absent on success. */
  readonly code?: string | undefined;
  /** Operator-facing reason; absent on success. */
  readonly reason?: string | undefined;
  readonly durationMs: number;
}

/** Port through which the API and delivery paths report outcomes. */
export interface OutcomeSink {
  record(outcome: MessageOutcome): void;
}

/**
 * Writes exactly one structured log line per message outcome and counts it. Field names are fixed
 * (`msgId, senderId, recipientId, type, direction, result, code, reason, durationMs`) so log queries can rely on them.
 */
export function createOutcomeSink(log: Logger, metrics: AgentMetrics): OutcomeSink {
  const outcomeLog = fixedShapeLogger(log);
  return {
    record(outcome) {
      const line = {
        msgId: outcome.msgId,
        senderId: outcome.senderId,
        recipientId: outcome.recipientId,
        type: outcome.type,
        direction: outcome.direction,
        result: outcome.result,
        code: outcome.code,
        reason: outcome.reason,
        durationMs: Math.round(outcome.durationMs * 100) / 100,
      };
      const isSuccess = outcome.code === undefined;
      if (isSuccess) outcomeLog.info(line, 'message outcome');
      else outcomeLog.warn(line, 'message outcome');
      metrics.messageOutcome(outcome.direction, outcome.result, outcome.code ?? '', outcome.durationMs / 1000);
    },
  };
}
