// Seed-003 queues as its server would have left them, for the `dmrctl queues migrate` tests. The seed's code is not on
// this machine; its queue format is assumed as packages/control/src/migrate/seed003-format.ts states it: queue `<id>`
// holding the wire message JSON plus `receivedAt`, dead letters in `<id>.dlq` put there by RabbitMQ itself (x-death).
// The payloads are sealed by DMR's own crypto (an up-to-date sender), so DMR's agents can open them: what this tests
// is the move, not seed-003's crypto (the interop suite covers that).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { importPrivateKey, importPublicKey, sealPayload } from '@dmr/shared';
import amqp from 'amqplib';
import { type Identity, v1Body } from './dmr-system.js';
import type { RabbitVhostInfo } from './rabbit.js';

const root = resolve(import.meta.dirname, '../..');
/** The dmrctl entry point as operators run it. */
export const DMRCTL_BIN = join(root, 'packages/control/dist/cli/main.js');

/** How many messages wait for one agent, and how many dead letters. */
export interface AgentBacklog {
  readonly recipient: Identity;
  readonly waiting: number;
  readonly deadLetters: number;
  /** Bodies that are no wire message at all (they must end in the DLQ, not vanish). */
  readonly garbage?: number;
}

/** What was put into the seed-003 queues: the wire ids per agent, by queue. */
export interface SeededBacklog {
  readonly waitingIds: Map<string, string[]>;
  readonly deadLetterIds: Map<string, string[]>;
}

/** A seed-003 wire message as its server queued it: the six wire fields plus `receivedAt`. */
async function seed003Body(
  sender: Identity,
  recipient: Identity,
  senderKey: ReturnType<typeof importPrivateKey>,
  recipientKey: ReturnType<typeof importPublicKey>,
) {
  const body = v1Body(recipient.id, `secret-${randomUUID()}`);
  const metadata = { id: body.id, senderId: sender.id, recipientId: recipient.id, type: 'ChatMessage', timestamp: body.timestamp };
  const payload = await sealPayload(metadata, body.payload, senderKey, recipientKey);
  return { id: body.id, text: JSON.stringify({ ...metadata, payload, receivedAt: new Date().toISOString() }) };
}

/**
 * Declares `<id>` (classic, dead-lettering to `<id>.dlq` through the default exchange) and `<id>.dlq`, then fills
 * them: the dead letters are published first with an immediate expiry, so RabbitMQ itself dead-letters them (x-death
 * reason `expired`), then the waiting messages. Publishes with confirms in batches of `batch`.
 */
export async function seedSeed003Queues(
  rabbit: RabbitVhostInfo,
  sender: Identity,
  backlogs: readonly AgentBacklog[],
  batch = 500,
): Promise<SeededBacklog> {
  const connection = await amqp.connect(rabbit.amqpUrl, { noDelay: true });
  const channel = await connection.createConfirmChannel();
  const senderKey = importPrivateKey(sender.privatePem);
  const seeded: SeededBacklog = { waitingIds: new Map(), deadLetterIds: new Map() };
  try {
    for (const backlog of backlogs) {
      const id = backlog.recipient.id;
      await channel.assertQueue(`${id}.dlq`, { durable: true });
      await channel.assertQueue(id, {
        durable: true,
        arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': `${id}.dlq` },
      });
      const recipientKey = importPublicKey(backlog.recipient.publicPem);
      const dead = await publishBatches(
        channel,
        id,
        backlog.deadLetters,
        batch,
        () => seed003Body(sender, backlog.recipient, senderKey, recipientKey),
        '0',
      );
      await waitForDepth(channel, `${id}.dlq`, backlog.deadLetters);
      const waiting = await publishBatches(channel, id, backlog.waiting, batch, () =>
        seed003Body(sender, backlog.recipient, senderKey, recipientKey),
      );
      for (let index = 0; index < (backlog.garbage ?? 0); index++)
        channel.sendToQueue(id, Buffer.from(`not a wire message ${index}`), { persistent: true });
      await channel.waitForConfirms();
      seeded.waitingIds.set(id, waiting);
      seeded.deadLetterIds.set(id, dead);
    }
  } finally {
    await connection.close().catch(() => undefined);
  }
  return seeded;
}

async function publishBatches(
  channel: amqp.ConfirmChannel,
  queue: string,
  count: number,
  batch: number,
  make: () => Promise<{ id: string; text: string }>,
  expiration?: string,
): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += batch) {
    for (let index = start; index < Math.min(count, start + batch); index++) {
      const message = await make();
      ids.push(message.id);
      channel.sendToQueue(queue, Buffer.from(message.text), {
        persistent: true,
        contentType: 'application/json',
        ...(expiration ? { expiration } : {}),
      });
    }
    await channel.waitForConfirms();
  }
  return ids;
}

async function waitForDepth(channel: amqp.Channel, queue: string, count: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { messageCount } = await channel.checkQueue(queue);
    if (messageCount >= count) return;
    if (Date.now() > deadline) throw new Error(`${queue} holds ${messageCount} of ${count} messages after 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The RABBITMQ_* variables dmrctl reads, for `rabbit`'s vhost (as an operator would export them for dmr-server). */
export function dmrctlEnv(rabbit: RabbitVhostInfo): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    RABBITMQ_DEFAULT_HOST: '127.0.0.1',
    RABBITMQ_DEFAULT_PORT: String(rabbit.amqpPort),
    RABBITMQ_DEFAULT_VHOST: rabbit.vhost,
    RABBITMQ_DEFAULT_USER: rabbit.user,
    RABBITMQ_DEFAULT_PASS: rabbit.password,
    RABBITMQ_DEFAULT_MANAGEMENT_UI_URI: rabbit.managementBase,
  };
}

/** A dmrctl child process with its output collected. */
export class DmrctlRun {
  stdout = '';
  stderr = '';
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(args: readonly string[], env: Record<string, string>) {
    this.child = spawn(process.execPath, [DMRCTL_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.exited = new Promise((done) => this.child.once('exit', (code) => done(code)));
  }

  /** SIGKILL by PID, as a crash or an OOM kill would end it. */
  async kill9(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Runs dmrctl to the end and returns its exit code and output. */
export async function runDmrctl(
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = new DmrctlRun(args, env);
  const code = await run.exited;
  return { code, stdout: run.stdout, stderr: run.stderr };
}
