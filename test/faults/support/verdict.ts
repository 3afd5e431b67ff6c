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

/**
 * Which dead letters a scenario expects (issue 21): a dead letter is a loss unless its scenario says it may happen.
 * A predicate, so a scenario can name the reason (e.g. the endpoint never recovered) or the ids it expects.
 */
export type DeadLetterAllowance = (letter: DeadLetter) => boolean;

/** How `summarize` judges a run. Every field optional: the default expects no dead letter at all. */
export interface VerdictOptions {
  /** Dead letters the scenario expects; every other one counts as lost. Default: none expected. */
  readonly allowDeadLetter?: DeadLetterAllowance;
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
  /**
   * Accepted (202) ids lost: never delivered and not dead-lettered in a way the scenario allows (an unexpected dead
   * letter of an undelivered message counts here: it is as lost as one that vanished).
   */
  readonly missing: number;
  readonly deadLettered: number;
  /** Dead letters the scenario did not allow (any id, delivered or not): each is a failure of the verdict. */
  readonly unexpectedDeadLetters: number;
  /**
   * Chats whose first deliveries were not exactly the acceptance order: an inversion, or an accepted message of
   * the chat that never arrived (unless it is an allowed dead letter).
   */
  readonly chatsOutOfOrder: number;
  readonly callerErrors: number;
  readonly durationS: number;
  readonly duplicateIds: readonly string[];
  readonly repostIds: readonly string[];
  readonly missingIds: readonly string[];
  readonly unexpectedDeadLetterIds: readonly string[];
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

/**
 * Builds the summary of one scenario from the three sides. A dead letter counts as lost unless
 * `options.allowDeadLetter` accepts it: pass the allowance when the scenario's fault is meant to dead-letter.
 */
export function summarize(
  scenario: string,
  stream: StreamResult,
  accepted: readonly Accepted[],
  reposts: readonly Accepted[],
  deadLetters: readonly DeadLetter[],
  options: VerdictOptions = {},
): Summary {
  const counts = new Map<string, number>();
  for (const entry of accepted) counts.set(entry.id, (counts.get(entry.id) ?? 0) + 1);
  const dead = new Set(deadLetters.map((letter) => letter.id));
  const allowed = allowedDeadLetterIds(deadLetters, options);
  const unexpectedDeadLetterIds = [...dead].filter((id) => !allowed.has(id));
  const missingIds = [...stream.accepted].filter((id) => !counts.has(id) && !allowed.has(id));
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
    unexpectedDeadLetters: unexpectedDeadLetterIds.length,
    chatsOutOfOrder: countChatsOutOfOrder(stream.acceptOrder, accepted, allowed),
    callerErrors: [...stream.callerErrors.values()].reduce((sum, count) => sum + count, 0),
    durationS: Math.round(stream.durationMs / 100) / 10,
    duplicateIds,
    repostIds: [...new Set(reposts.map((entry) => entry.id))],
    missingIds,
    unexpectedDeadLetterIds,
  };
}

/** The ids of the dead letters `options` allows (an id dead-lettered twice is allowed only if every copy is). */
export function allowedDeadLetterIds(deadLetters: readonly DeadLetter[], options: VerdictOptions = {}): Set<string> {
  const allow = options.allowDeadLetter;
  if (!allow) return new Set();
  const refused = new Set(deadLetters.filter((letter) => !allow(letter)).map((letter) => letter.id));
  return new Set(deadLetters.map((letter) => letter.id).filter((id) => !refused.has(id)));
}

/**
 * Per chat, the ids in the order of their FIRST arrival at the endpoint must be the acceptance order, every
 * accepted id included: a chat with an accepted message that never arrived counts as out of order too (a gap is
 * a break of order, not something to skip), unless that id is in `excused` (a dead letter the scenario allows).
 */
export function countChatsOutOfOrder(
  acceptOrder: ReadonlyMap<string, readonly string[]>,
  accepted: readonly Accepted[],
  excused: ReadonlySet<string> = new Set(),
): number {
  const firstArrival = new Map<string, number>();
  accepted.forEach((entry, index) => {
    if (!firstArrival.has(entry.id)) firstArrival.set(entry.id, index);
  });
  let outOfOrder = 0;
  for (const ids of acceptOrder.values()) {
    const expected = ids.filter((id) => !excused.has(id));
    const positions = expected.map((id) => firstArrival.get(id));
    const gap = positions.some((position) => position === undefined);
    const inversion = positions.some((position, index) => index > 0 && (position as number) < (positions[index - 1] as number));
    if (gap || inversion) outOfOrder++;
  }
  return outOfOrder;
}

/**
 * For the first chat out of order: the acceptance positions of its first arrivals around the first inversion, or
 * the first accepted message of the chat that never arrived (`excused` ids are not expected to arrive).
 */
export function describeDisorder(
  acceptOrder: ReadonlyMap<string, readonly string[]>,
  accepted: readonly Accepted[],
  excused: ReadonlySet<string> = new Set(),
): string | undefined {
  const firsts = new Map<string, Accepted>();
  for (const entry of accepted) if (!firsts.has(entry.id)) firsts.set(entry.id, entry);
  for (const [chatId, ids] of acceptOrder) {
    const rank = new Map(ids.map((id, index) => [id, index]));
    const gapAt = ids.findIndex((id) => !firsts.has(id) && !excused.has(id));
    if (gapAt >= 0) return `chat ${chatId.slice(0, 8)}: accepted #${gapAt}(${ids[gapAt]?.slice(0, 8)}) never arrived`;
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
    `unexpected-dead-letters=${summary.unexpectedDeadLetters} ` +
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
