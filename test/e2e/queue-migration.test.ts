// Issue #16: `dmrctl queues migrate` moves what waits in seed-003 queues (`<id>`, `<id>.dlq`) into DMR's
// (`dmr.agent.<id>`, `.dlq`), then a real dmr-server and real agents deliver it: 0 lost, 0 duplicated at the endpoint.
import { agentDeadLetterQueueName, agentQueueName } from '@dmr/shared';
import amqp from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Identity,
  makeIdentity,
  Receiver,
  RegistryFile,
  type RunningServer,
  serverEnv,
  startAgent,
  startServer,
  waitUntil,
} from '../support/dmr-system.js';
import { peekQueue, queueDepth, type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';
import { type AgentBacklog, dmrctlEnv, runDmrctl, seedSeed003Queues } from '../support/seed003-queues.js';

describe('dmrctl queues migrate: seed-003 queues into DMR', () => {
  let rabbit: RabbitVhostHandle;
  let registry: RegistryFile | undefined;
  let receiver: Receiver | undefined;
  const started: Array<{ stop: () => Promise<void> }> = [];

  beforeAll(async () => {
    rabbit = await useRabbitVhost();
  });

  afterAll(async () => {
    await rabbit.cleanup();
  });

  afterEach(async () => {
    for (const component of started.splice(0).reverse()) await component.stop();
    await receiver?.close();
    registry?.remove();
  });

  async function depths(names: readonly string[]): Promise<number[]> {
    return Promise.all(names.map((name) => queueDepth(rabbit, name)));
  }

  it('moves 10 000 waiting messages and the dead letters of three agents; DMR then delivers each exactly once', async () => {
    const sender = await makeIdentity('ec');
    const recipients: Identity[] = [await makeIdentity('ec'), await makeIdentity('ec'), await makeIdentity('rsa')];
    registry = new RegistryFile([sender, ...recipients]);
    receiver = await new Receiver().start();
    const backlogs: AgentBacklog[] = [
      { recipient: recipients[0] as Identity, waiting: 4000, deadLetters: 20, garbage: 2 },
      { recipient: recipients[1] as Identity, waiting: 3500, deadLetters: 15 },
      { recipient: recipients[2] as Identity, waiting: 2500, deadLetters: 10 },
    ];
    const seeded = await seedSeed003Queues(rabbit, sender, backlogs);
    const ids = recipients.map((recipient) => recipient.id);
    const sources = ids.flatMap((id) => [id, `${id}.dlq`]);
    expect(await depths(sources)).toEqual([4002, 20, 3500, 15, 2500, 10]);

    // rolling order, step 1: DMR's servers run first (they declare the queues and apply the policies); agents not yet moved
    const server: RunningServer = await startServer(serverEnv(rabbit, registry.url, { RABBITMQ_DEFAULT_TTL: '900000' }));
    started.push({ stop: () => server.server.stop() });
    const env = dmrctlEnv(rabbit);

    const dryRun = await runDmrctl(['queues', 'migrate', '--discover', '--dry-run'], env);
    expect(dryRun.code, dryRun.stderr).toBe(0);
    for (const [index, id] of ids.entries())
      expect(dryRun.stdout).toMatch(new RegExp(`${id} +${[4002, 3500, 2500][index]} → dmr\\.agent\\.${id}\\n`));
    expect(dryRun.stdout).toContain('total 10047 message(s) waiting');
    expect(await depths(sources), 'a dry run moves nothing').toEqual([4002, 20, 3500, 15, 2500, 10]);

    // a seed-003 server still consuming one source: the whole run is refused, nothing moves
    const stillServing = await consumeWithoutAck(rabbit.amqpUrl, ids[1] as string);
    const refused = await runDmrctl(['queues', 'migrate', '--agent-ids', ids.join(',')], env);
    await stillServing.close();
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('DMR_MIGRATE_SOURCE_IN_USE');
    expect(refused.stderr).toContain(ids[1]);
    await waitUntil(async () => (await depths(sources)).join() === '4002,20,3500,15,2500,10', 10_000, 'sources untouched');
    expect(await depths(ids.map(agentQueueName)), 'nothing reached DMR').toEqual([0, 0, 0]);

    const startedAt = performance.now();
    const moved = await runDmrctl(['queues', 'migrate', '--agent-ids', ids.join(','), '--progress-ms', '500'], env);
    const wallMs = performance.now() - startedAt;
    expect(moved.code, moved.stderr + moved.stdout).toBe(0);
    expect(moved.stdout).toContain('move done');
    expect(moved.stdout).toMatch(/total 10047 message\(s\): 10000 to inboxes, 45 dead letters and 2 invalid to DLQs/);
    expect(moved.stderr).toContain(`moving ${ids[0]} → dmr.agent.${ids[0]} (4002 waiting)`);
    const rate = /, (\d+) msg\/s\n$/.exec(moved.stdout)?.[1];
    process.stderr.write(`${moved.stdout}`);
    process.stderr.write(
      `[queue-migration] moved 10 047 messages: ${rate} msg/s inside dmrctl, ${Math.round(wallMs)} ms wall for the process\n`,
    );
    expect(await depths(sources), 'every source drained').toEqual([0, 0, 0, 0, 0, 0]);
    expect(await depths(ids.map(agentQueueName))).toEqual([4000, 3500, 2500]);
    expect(await depths(ids.map(agentDeadLetterQueueName))).toEqual([22, 15, 10]);

    const deadLetters = await peekQueue(rabbit, agentDeadLetterQueueName(ids[0] as string), 22);
    const codes = deadLetters.map((message) => message.headers['x-dmr-reason-code']);
    expect(codes.filter((code) => code === 'DMR_MIGRATE_DEAD_LETTER')).toHaveLength(20);
    expect(codes.filter((code) => code === 'DMR_DELIVERY_INVALID_MESSAGE')).toHaveLength(2);
    const migratedDead = deadLetters.filter((message) => message.headers['x-dmr-reason-code'] === 'DMR_MIGRATE_DEAD_LETTER');
    for (const message of migratedDead) {
      expect(String(message.headers['x-dmr-reason'])).toMatch(
        /^dead-lettered by seed 003 \(x-death reason=expired queue=([0-9a-f-]{36}) count=1\); moved from seed-003 queue \1\.dlq$/,
      );
      expect(Object.keys(JSON.parse(message.body) as object).sort()).toEqual([
        'id',
        'payload',
        'recipientId',
        'senderId',
        'timestamp',
        'type',
      ]);
    }
    expect(migratedDead.map((message) => (JSON.parse(message.body) as { id: string }).id).sort()).toEqual(
      [...(seeded.deadLetterIds.get(ids[0] as string) ?? [])].sort(),
    );
    const garbage = deadLetters.filter((message) => message.headers['x-dmr-reason-code'] === 'DMR_DELIVERY_INVALID_MESSAGE');
    expect(garbage.map((message) => message.body).sort()).toEqual(['not a wire message 0', 'not a wire message 1']);
    expect(String(garbage[0]?.headers['x-dmr-reason'])).toContain('body is not JSON');
    // metadata only in dmrctl's output
    expect(moved.stdout + moved.stderr).not.toContain('secret-');

    // rolling order, step 4: the moved agents connect to DMR's server and get their backlog
    for (const recipient of recipients) {
      // the endpoint sink shares this test's event loop with the server and three agents: a POST it answers late must not
      // time out and be posted again (a documented repost the Idempotency-Key covers, but not what this test counts)
      const agent = await startAgent(recipient, server.url, receiver.url, { OUTGOING_MESSAGE_TIMEOUT_MS: '120000' });
      started.push({ stop: () => agent.agent.stop() });
    }
    const delivered = () => server.logs.lines.filter((line) => line.stage === 'delivery' && line.result === 'delivered').length;
    await waitUntil(() => delivered() >= 10_000, 240_000, 'the server settled 10 000 deliveries');
    await waitUntil(() => (receiver?.received.length ?? 0) >= 10_000, 30_000, 'the endpoint got 10 000 messages').catch(
      (error: unknown) => {
        const results = server.logs.lines.filter((line) => line.stage === 'delivery').map((line) => `${line.result}:${line.code}`);
        const tally = new Map<string, number>();
        for (const result of results) tally.set(result, (tally.get(result) ?? 0) + 1);
        throw new Error(`${(error as Error).message}; endpoint has ${receiver?.received.length}; server outcomes ${[...tally].join(' ')}`);
      },
    );
    const expected = ids.flatMap((id) => seeded.waitingIds.get(id) ?? []);
    expect(expected).toHaveLength(10_000);
    const got = receiver.received.map((message) => message.id);
    expect(new Set(got).size, 'no message twice at the endpoint').toBe(got.length);
    expect(got.sort()).toEqual([...expected].sort());
    expect(new Set(receiver.idempotencyKeys).size, 'one Idempotency-Key per POST').toBe(receiver.idempotencyKeys.length);
    expect(await depths(ids.map(agentQueueName))).toEqual([0, 0, 0]);
    expect(await depths(ids.map(agentDeadLetterQueueName)), 'dead letters stay in the DLQs').toEqual([22, 15, 10]);
  }, 600_000);

  it("moves from the seed-003 vhost into DMR's vhost of the same broker (--source-vhost), finding the agents there", async () => {
    const legacy = await useRabbitVhost();
    try {
      const sender = await makeIdentity('ec');
      const recipient = await makeIdentity('ec');
      const seeded = await seedSeed003Queues(legacy, sender, [{ recipient, waiting: 50, deadLetters: 3 }]);
      const moved = await runDmrctl(['queues', 'migrate', '--discover', '--source-vhost', legacy.vhost], dmrctlEnv(rabbit));
      expect(moved.code, moved.stderr + moved.stdout).toBe(0);
      expect(moved.stdout).toContain('total 53 message(s): 50 to inboxes, 3 dead letters');
      expect(await Promise.all([recipient.id, `${recipient.id}.dlq`].map((name) => queueDepth(legacy, name)))).toEqual([0, 0]);
      const inbox = await peekQueue(rabbit, agentQueueName(recipient.id), 50);
      expect(inbox.map((message) => (JSON.parse(message.body) as { id: string }).id)).toEqual(seeded.waitingIds.get(recipient.id));
      expect(inbox[0]?.headers['x-dmr-migrated-from']).toBe(recipient.id);
      expect(await queueDepth(rabbit, agentDeadLetterQueueName(recipient.id))).toBe(3);
    } finally {
      await legacy.cleanup();
    }
  });

  it('stops on a full DMR queue (nack) with exit 1, and what RabbitMQ refused stays in the source; a second run goes on', async () => {
    const own = await useRabbitVhost();
    try {
      const sender = await makeIdentity('ec');
      const recipient = await makeIdentity('ec');
      await seedSeed003Queues(own, sender, [{ recipient, waiting: 300, deadLetters: 0 }]);
      // DMR's own bound on an agent queue (RABBITMQ_MAX_QUEUE_LENGTH), set small here
      await putPolicy(own, {
        pattern: '^dmr\\.agent\\.',
        definition: { 'max-length': 100, overflow: 'reject-publish' },
        'apply-to': 'queues',
      });
      const first = await runDmrctl(['queues', 'migrate', '--agent-ids', recipient.id, '--window', '50'], dmrctlEnv(own));
      expect(first.code).toBe(1);
      expect(first.stdout).toContain('move failed');
      expect(first.stdout).toContain('FAILED DMR_ROUTE_PUBLISH_FAILED');
      expect(first.stderr).toContain('dmrctl: DMR_ROUTE_PUBLISH_FAILED');
      // a quorum queue enforces max-length on what it has committed, so a few publishes in flight may still get in
      const inDmr = await queueDepth(own, agentQueueName(recipient.id));
      const left = await queueDepth(own, recipient.id);
      expect(inDmr).toBeGreaterThanOrEqual(100);
      expect(left, 'what RabbitMQ refused went back to the source').toBeGreaterThan(0);
      expect(left + inDmr, 'nothing lost').toBeGreaterThanOrEqual(300);
      expect(left + inDmr - 300, 'at most the window moved twice').toBeLessThanOrEqual(50);
      await putPolicy(own, {
        pattern: '^dmr\\.agent\\.',
        definition: { 'max-length': 100_000, overflow: 'reject-publish' },
        'apply-to': 'queues',
      });
      const second = await runDmrctl(['queues', 'migrate', '--agent-ids', recipient.id], dmrctlEnv(own));
      expect(second.code, second.stderr).toBe(0);
      expect(await queueDepth(own, recipient.id)).toBe(0);
      expect(await queueDepth(own, agentQueueName(recipient.id))).toBe(inDmr + left);
    } finally {
      await own.cleanup();
    }
  });

  it('refuses bad input with exit 2 and a message naming it, before touching the broker', async () => {
    const env = dmrctlEnv(rabbit);
    const noPort = await runDmrctl(['queues', 'migrate', '--agent-ids', 'a1'], { ...env, RABBITMQ_DEFAULT_PORT: '' });
    expect(noPort.code).toBe(2);
    expect(noPort.stderr).toContain('DMR_CONFIG_INVALID');
    expect(noPort.stderr).toContain('RABBITMQ_DEFAULT_PORT is required');
    const badId = await runDmrctl(['queues', 'migrate', '--agent-ids', 'a.b'], env);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toContain('not an agent id: a.b');
    const badTemplate = await runDmrctl(['queues', 'migrate', '--agent-ids', 'a1', '--source-queue', 'dmr.agent.{id}'], env);
    expect(badTemplate.code).toBe(2);
    expect(badTemplate.stderr).toContain("names DMR's own queues");
    const noAgents = await runDmrctl(['queues', 'migrate'], env);
    expect(noAgents.code).toBe(2);
    expect(noAgents.stderr).toContain('exactly one of --agent-ids, --registry-url or --discover');
  });
});

/** Sets a policy through the management API (a stand-in for the one dmr-server applies). */
async function putPolicy(rabbit: RabbitVhostHandle, body: Record<string, unknown>): Promise<void> {
  const url = `${rabbit.managementApiBase}/policies/${encodeURIComponent(rabbit.vhost)}/test-max-length`;
  const authorization = `Basic ${Buffer.from(`${rabbit.user}:${rabbit.password}`).toString('base64')}`;
  const response = await fetch(url, {
    method: 'PUT',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`policy refused: HTTP ${response.status}`);
}

/** A consumer holding a queue as a still-running seed-003 server would (stand-in: its code is not on this machine). */
async function consumeWithoutAck(amqpUrl: string, queue: string): Promise<{ close: () => Promise<void> }> {
  const connection = await amqp.connect(amqpUrl, { noDelay: true });
  const channel = await connection.createChannel();
  await channel.prefetch(1);
  await channel.consume(queue, () => undefined, { noAck: false });
  return { close: () => connection.close() };
}
