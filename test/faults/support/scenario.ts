// The shape every fault scenario shares: start a stream A→B, inject the fault mid-stream, let the system
// recover, then count and check. Checks wait on conditions with generous deadlines (the machine may be busy);
// a fixed pause is used only to let late duplicates show up before counting, never as an assertion.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { waitUntil } from '../../support/dmr-system.js';
import { type StreamPlan, type StreamResult, startStream } from './stream.js';
import {
  allowedDeadLetterIds,
  type DeadLetter,
  type DeadLetterAllowance,
  deadLetterLogReasons,
  describeDisorder,
  drainDeadLetters,
  report,
  type Summary,
  summarize,
} from './verdict.js';
import type { FaultWorld } from './world.js';

/** Messages per scenario: 25 chats × 40 (the issue asks for N ≥ 1000). */
export const CHATS = 25;
export const PER_CHAT = 40;

/** What a scenario run produced. */
export interface ScenarioRun {
  readonly summary: Summary;
  readonly stream: StreamResult;
  readonly deadLetters: readonly DeadLetter[];
}

/** How to run one scenario. */
export interface ScenarioSpec {
  readonly name: string;
  readonly world: FaultWorld;
  readonly agentUrls: readonly string[];
  /** Injects the fault; called once the endpoint has accepted `faultAfter` messages. */
  readonly fault: () => Promise<void>;
  /** Deliveries at the endpoint before the fault is injected (default: a third of the stream). */
  readonly faultAfter?: number;
  /**
   * True: the DLQ is watched while settling (a dead-lettered message then ends the wait for it early). It does NOT
   * excuse a dead letter: only `allowDeadLetter` does.
   */
  readonly expectDeadLetters?: boolean;
  /**
   * The dead letters this scenario's fault is meant to produce (issue 21). Any other dead letter counts as a loss
   * in the summary and fails `expectNoLoss`. Setting it also watches the DLQ while settling.
   */
  readonly allowDeadLetter?: DeadLetterAllowance;
  readonly plan?: Partial<StreamPlan>;
  /** Deadline for the system to settle after the stream (default 90 s). */
  readonly settleMs?: number;
}

/** Runs the stream with the fault, prints the summary line and returns the counts (assertions are the caller's). */
export async function runScenario(spec: ScenarioSpec): Promise<ScenarioRun> {
  const { world } = spec;
  const plan: StreamPlan = {
    agentUrls: spec.agentUrls,
    recipientId: world.b.id,
    chats: CHATS,
    perChat: PER_CHAT,
    retryDeadlineMs: 90_000,
    ...spec.plan,
  };
  const stream = startStream(plan);
  const faultAfter = spec.faultAfter ?? Math.floor((plan.chats * plan.perChat) / 3);
  const isFaultTime = () => world.endpoint.accepted.length + world.endpoint.refused >= faultAfter;
  await waitUntil(isFaultTime, 120_000, `${faultAfter} messages at the endpoint before the fault`);
  await spec.fault();
  const result = await stream.done;
  const deadLetters = await settle(spec, result);
  const verdict = { allowDeadLetter: spec.allowDeadLetter };
  const summary = summarize(spec.name, result, world.endpoint.accepted, world.endpoint.reposts, deadLetters, verdict);
  report(summary);
  const disorder = describeDisorder(result.acceptOrder, world.endpoint.accepted, allowedDeadLetterIds(deadLetters, verdict));
  if (disorder) process.stdout.write(`  ${disorder}\n`);
  for (const id of summary.duplicateIds.slice(0, 3)) process.stdout.write(`  ${describeCopies('duplicate', world, id)}\n`);
  for (const id of summary.repostIds.slice(0, 3)) process.stdout.write(`  ${describeCopies('re-post', world, id)}\n`);
  return { summary, stream: result, deadLetters };
}

/** Waits until every accepted message reached its end (delivered or dead-lettered), collecting the DLQ. */
async function settle(spec: ScenarioSpec, result: StreamResult): Promise<DeadLetter[]> {
  const { world } = spec;
  const found: DeadLetter[] = [];
  const isSettled = async () => {
    if (spec.expectDeadLetters || spec.allowDeadLetter) found.push(...(await drainDeadLetters(amqpUrlOf(world), world.b.id, 300)));
    const ended = new Set([...world.endpoint.deliveredIds(), ...found.map((letter) => letter.id)]);
    return [...result.accepted].every((id) => ended.has(id));
  };
  // a timeout is not thrown here: the summary then shows what is missing, and the caller's checks fail on it
  await waitUntil(isSettled, spec.settleMs ?? 90_000, 'every accepted message delivered or dead-lettered').catch(() => undefined);
  // late redeliveries (and so duplicates) can only come from messages still unacknowledged: give them a moment
  await sleep(2000);
  found.push(...(await drainDeadLetters(amqpUrlOf(world), world.b.id, 500)));
  return found;
}

/** How a second copy came about: when the endpoint got each copy, and what agent B logged for the message. */
function describeCopies(kind: 'duplicate' | 're-post', world: FaultWorld, id: string): string {
  const times = [...world.endpoint.accepted, ...world.endpoint.reposts]
    .filter((entry) => entry.id === id)
    .map((entry) => entry.atMs)
    .sort((a, b) => a - b);
  const gaps = times.map((at) => at - (times[0] ?? 0)).join(', ');
  const outcomes = world.fleet.all
    .filter((proc) => proc.name === 'agent-b')
    .flatMap((proc) => proc.find({ msg: 'message outcome', msgId: id }))
    .map((line) => `${String(line.result)}${line.reason ? ` (${String(line.reason)})` : ''}`);
  return `${kind} ${id.slice(0, 8)}: endpoint got it at +${gaps} ms; agent B logged: ${outcomes.join('; ')}`;
}

function amqpUrlOf(world: FaultWorld): string {
  const { broker } = world;
  const host = broker.hosts.split(',')[0] ?? '127.0.0.1';
  const hostPort = host.includes(':') ? host : `${host}:${broker.amqpPort}`;
  return `amqp://${encodeURIComponent(broker.user)}:${encodeURIComponent(broker.password)}@${hostPort}/${encodeURIComponent(broker.vhost)}`;
}

/**
 * The acceptance checks of the issue: nothing accepted is missing, no dead letter the scenario did not allow
 * (`ScenarioSpec.allowDeadLetter`), the endpoint acted on nothing twice, every accepted message of a chat arrived
 * in acceptance order (a gap fails too), logged DLQ reasons. Beyond that, no message may even travel to the endpoint twice (a re-post the endpoint
 * recognised by its Idempotency-Key) unless the scenario names it in `allowRepostsOf`: only a kill -9 of agent B
 * can force one, for the POSTs in flight at the kill.
 */
export function expectNoLoss(run: ScenarioRun, world: FaultWorld, options: { allowRepostsOf?: ReadonlySet<string> } = {}): void {
  const { summary } = run;
  expect(summary.accepted, 'some messages accepted').toBeGreaterThan(0);
  expect(summary.missingIds, 'accepted (202) but neither delivered nor dead-lettered as the scenario allows').toEqual([]);
  expect(summary.unexpectedDeadLetterIds, 'dead letters the scenario does not expect (a dead letter is a loss)').toEqual([]);
  expect(summary.duplicateIds, 'messages the endpoint acted on twice').toEqual([]);
  const unexplained = summary.repostIds.filter((id) => !options.allowRepostsOf?.has(id));
  expect(unexplained, 're-posts to the endpoint').toEqual([]);
  expect(summary.chatsOutOfOrder, 'chats whose accepted messages did not all reach the endpoint in acceptance order').toBe(0);
  expectLoggedReasons(run.deadLetters, world);
}

/** Every dead-lettered message carries its reason in the DLQ headers and in a server outcome log line. */
export function expectLoggedReasons(deadLetters: readonly DeadLetter[], world: FaultWorld): void {
  const logged = deadLetterLogReasons(world.serverLines());
  for (const letter of deadLetters) {
    expect(letter.reasonCode, `DLQ message ${letter.id} has x-dmr-reason-code`).toBeTruthy();
    expect(logged.get(letter.id), `server logged why ${letter.id} was dead-lettered`).toBeTruthy();
  }
}
