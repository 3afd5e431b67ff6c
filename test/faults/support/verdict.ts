// Counting what a scenario did: what callers got 202 for, what reached the endpoint (and how often), what
// ended in the recipient's DLQ and why, and whether each chat arrived in the order it was accepted.
import { agentDeadLetterQueueName } from '@dmr/shared';
import amqp, { type ConsumeMessage } from 'amqplib';
import type { Accepted } from './endpoint.js';
import type { LogLine } from './fleet.js';
import type { StreamResult } from './stream.js';

/** A message found in a DLQ. */
export interface DeadLetter {
  readonly id: string;
  readonly reasonCode: string | undefined;
  readonly reason: string | undefined;
}

/** The counts a scenario reports. */
export interface Summary {
  readonly scenario: string;
  readonly sent: number;
  readonly accepted: number;
  readonly delivered: number;
  /** Messages the endpoint acted on more than once (beyond the first, summed). */
  readonly duplicates: number;
  /** POSTs of a message the endpoint had acted on already, recognised by their Idempotency-Key and not acted on. */
  readonly reposts: number;
  /** Accepted (202) ids neither delivered nor dead-lettered. */
  readonly missing: number;
  readonly deadLettered: number;
  /** Chats whose first deliveries did not follow the acceptance order. */
  readonly chatsOutOfOrder: number;
  readonly callerErrors: number;
  readonly durationS: number;
  readonly duplicateIds: readonly string[];
  readonly repostIds: readonly string[];
  readonly missingIds: readonly string[];
}

/** Takes every message out of agent `agentId`'s DLQ (stops after `idleMs` without a new one). */
export async function drainDeadLetters(amqpUrl: string, agentId: string, idleMs = 1500): Promise<DeadLetter[]> {
  const connection = await amqp.connect(amqpUrl, { noDelay: true });
  try {
    const channel = await connection.createChannel();
    await channel.prefetch(500);
    const found: DeadLetter[] = [];
    let last = Date.now();
    await channel.consume(agentDeadLetterQueueName(agentId), (message: ConsumeMessage | null) => {
      if (!message) return;
      found.push(toDeadLetter(message));
      channel.ack(message);
      last = Date.now();
    });
    while (Date.now() - last < idleMs) await new Promise((resolve) => setTimeout(resolve, 100));
    return found;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

function toDeadLetter(message: ConsumeMessage): DeadLetter {
  const headers = message.properties.headers ?? {};
  const text = (value: unknown) => (value === undefined ? undefined : String(value));
  let id = text(message.properties.messageId);
  if (!id) id = (JSON.parse(message.content.toString('utf8')) as { id?: string }).id ?? '?';
  return { id, reasonCode: text(headers['x-dmr-reason-code']), reason: text(headers['x-dmr-reason']) };
}

/** Builds the summary of one scenario from the three sides. */
export function summarize(
  scenario: string,
  stream: StreamResult,
  accepted: readonly Accepted[],
  reposts: readonly Accepted[],
  deadLetters: readonly DeadLetter[],
): Summary {
  const counts = new Map<string, number>();
  for (const entry of accepted) counts.set(entry.id, (counts.get(entry.id) ?? 0) + 1);
  const dead = new Set(deadLetters.map((letter) => letter.id));
  const missingIds = [...stream.accepted].filter((id) => !counts.has(id) && !dead.has(id));
  const duplicateIds = [...counts].filter(([, count]) => count > 1).map(([id]) => id);
  return {
    scenario,
    sent: stream.sent.length,
    accepted: stream.accepted.size,
    delivered: counts.size,
    duplicates: accepted.length - counts.size,
    reposts: reposts.length,
    missing: missingIds.length,
    deadLettered: dead.size,
    chatsOutOfOrder: countChatsOutOfOrder(stream.acceptOrder, accepted),
    callerErrors: [...stream.callerErrors.values()].reduce((sum, count) => sum + count, 0),
    durationS: Math.round(stream.durationMs / 100) / 10,
    duplicateIds,
    repostIds: [...new Set(reposts.map((entry) => entry.id))],
    missingIds,
  };
}

/** Per chat, the ids in the order of their FIRST arrival at the endpoint must follow the acceptance order. */
export function countChatsOutOfOrder(acceptOrder: ReadonlyMap<string, readonly string[]>, accepted: readonly Accepted[]): number {
  const firstArrival = new Map<string, number>();
  accepted.forEach((entry, index) => {
    if (!firstArrival.has(entry.id)) firstArrival.set(entry.id, index);
  });
  let outOfOrder = 0;
  for (const ids of acceptOrder.values()) {
    const positions = ids.map((id) => firstArrival.get(id)).filter((position): position is number => position !== undefined);
    if (positions.some((position, index) => index > 0 && position < (positions[index - 1] as number))) outOfOrder++;
  }
  return outOfOrder;
}

/** For the first chat out of order: the acceptance positions of its first arrivals around the first inversion. */
export function describeDisorder(acceptOrder: ReadonlyMap<string, readonly string[]>, accepted: readonly Accepted[]): string | undefined {
  const firsts = new Map<string, Accepted>();
  for (const entry of accepted) if (!firsts.has(entry.id)) firsts.set(entry.id, entry);
  for (const [chatId, ids] of acceptOrder) {
    const rank = new Map(ids.map((id, index) => [id, index]));
    const arrivals = [...firsts.values()].filter((entry) => entry.chatId === chatId);
    const at = arrivals.findIndex(
      (entry, index) => index > 0 && (rank.get(entry.id) ?? 0) < (rank.get(arrivals[index - 1]?.id ?? '') ?? 0),
    );
    if (at < 0) continue;
    const around = arrivals.slice(Math.max(0, at - 4), at + 4).map((entry) => `#${rank.get(entry.id)}(${entry.id.slice(0, 8)})`);
    return `chat ${chatId.slice(0, 8)}: first arrivals by acceptance position … ${around.join(' ')} …`;
  }
  return undefined;
}

/** The one-line summary the issue asks for (plus order, caller errors and duration). */
export function summaryLine(summary: Summary): string {
  return (
    `${summary.scenario}: sent=${summary.sent} accepted=${summary.accepted} delivered=${summary.delivered} ` +
    `duplicates=${summary.duplicates} re-posts=${summary.reposts} missing=${summary.missing} dead-lettered=${summary.deadLettered} ` +
    `chats-out-of-order=${summary.chatsOutOfOrder} caller-errors=${summary.callerErrors} duration=${summary.durationS}s`
  );
}

/** Prints the summary line on the test output (vitest shows a test's stdout). */
export function report(summary: Summary): void {
  process.stdout.write(`${summaryLine(summary)}\n`);
}

/** Server log lines that record a dead-letter with its reason, by message id. */
export function deadLetterLogReasons(lines: readonly LogLine[]): Map<string, string> {
  const reasons = new Map<string, string>();
  for (const line of lines) {
    if (line.msg === 'message outcome' && line.result === 'dead-lettered' && typeof line.msgId === 'string') {
      reasons.set(line.msgId, `${String(line.code)}: ${String(line.reason)}`);
    }
  }
  return reasons;
}
