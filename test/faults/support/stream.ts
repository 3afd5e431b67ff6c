// The sending side of a scenario: `chats` conversations run in parallel, each sending its messages one at a
// time and waiting for the answer before the next, as a chatbot does. A 502/503/504 (or no answer) is retried
// with the SAME id until a 202 or the deadline: the retry must never create a duplicate at the endpoint.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { v1Body } from '../../support/dmr-system.js';

/** What to send. */
export interface StreamPlan {
  /** Base URL(s) of the sending agent's HTTP API; a chat uses `agentUrls[chat % length]`. */
  readonly agentUrls: readonly string[];
  readonly recipientId: string;
  readonly chats: number;
  readonly perChat: number;
  /** How long one message may be retried before the sender gives up on it (it then counts as not accepted). */
  readonly retryDeadlineMs: number;
  /** Pause between retries of one message. */
  readonly retryPauseMs?: number;
  /** Pause after each accepted message of a chat, so the stream lasts long enough to span a slow fault. */
  readonly paceMs?: number;
}

/** What happened on the sending side. */
export interface StreamResult {
  /** Every id sent, in no particular order. */
  readonly sent: string[];
  /** Ids answered 202 at least once. */
  readonly accepted: Set<string>;
  /** Per chat id: the ids in the order they were accepted (each waited for its 202 before the next was sent). */
  readonly acceptOrder: Map<string, string[]>;
  /** Non-202 answers callers saw (each retried), by status (0 = no answer). */
  readonly callerErrors: Map<number, number>;
  readonly durationMs: number;
}

/** A running stream: `progress` counts accepted messages live, `done` resolves at the end. */
export interface Stream {
  readonly progress: { accepted: number; errors: number };
  readonly done: Promise<StreamResult>;
}

/** Starts sending (does not wait for the end). */
export function startStream(plan: StreamPlan): Stream {
  const progress = { accepted: 0, errors: 0 };
  const startedAt = Date.now();
  const result = {
    sent: [] as string[],
    accepted: new Set<string>(),
    acceptOrder: new Map<string, string[]>(),
    callerErrors: new Map<number, number>(),
  };
  const chats = Array.from({ length: plan.chats }, (_, index) => runChat(plan, index, result, progress));
  const done = Promise.all(chats).then(() => ({ ...result, durationMs: Date.now() - startedAt }));
  return { progress, done };
}

async function runChat(plan: StreamPlan, index: number, result: MutableResult, progress: Stream['progress']): Promise<void> {
  const chatId = randomUUID();
  const order: string[] = [];
  result.acceptOrder.set(chatId, order);
  const agentUrl = plan.agentUrls[index % plan.agentUrls.length] as string;
  for (let seq = 0; seq < plan.perChat; seq++) {
    const body = chatBody(plan.recipientId, chatId, seq);
    result.sent.push(body.id);
    if (await sendUntilAccepted(agentUrl, body, plan, result, progress)) {
      result.accepted.add(body.id);
      order.push(body.id);
      progress.accepted++;
    }
    if (plan.paceMs) await sleep(plan.paceMs);
  }
}

type MutableResult = Omit<StreamResult, 'durationMs'>;

async function sendUntilAccepted(
  agentUrl: string,
  body: ReturnType<typeof chatBody>,
  plan: StreamPlan,
  result: MutableResult,
  progress: Stream['progress'],
): Promise<boolean> {
  const deadline = Date.now() + plan.retryDeadlineMs;
  for (;;) {
    const status = await post(agentUrl, body);
    if (status === 202) return true;
    if (status === 400 || status === 413) throw new Error(`message ${body.id} refused with ${status}: the scenario sent a bad body`);
    result.callerErrors.set(status, (result.callerErrors.get(status) ?? 0) + 1);
    progress.errors++;
    if (Date.now() > deadline) return false;
    await sleep(plan.retryPauseMs ?? 100);
  }
}

async function post(agentUrl: string, body: unknown): Promise<number> {
  try {
    const response = await fetch(`${agentUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    await response.body?.cancel();
    return response.status;
  } catch {
    return 0;
  }
}

/** A v1 body of chat `chatId`; `seq` is only for humans reading a failure. */
export function chatBody(recipientId: string, chatId: string, seq: number) {
  const body = v1Body(recipientId, `fault-stream message ${seq}`);
  return {
    ...body,
    payload: {
      ...body.payload,
      chat: { ...body.payload.chat, id: chatId },
      messages: body.payload.messages.map((message) => ({ ...message, chatId })),
    },
  };
}
