// Issue #16: kill -9 of `dmrctl queues migrate` mid-run, then the same command again. A message confirmed in DMR's
// queue but not yet acked at the seed-003 source is moved twice (at-least-once); the recipient agent's duplicate
// window must keep the copy from the endpoint. Asserted where it matters: 0 lost and 0 duplicated at the endpoint.
import { agentDeadLetterQueueName, agentQueueName } from '@dmr/shared';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Identity,
  makeIdentity,
  Receiver,
  RegistryFile,
  serverEnv,
  startAgent,
  startServer,
  waitUntil,
} from '../support/dmr-system.js';
import { peekQueue, queueDepth, type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';
import { DmrctlRun, dmrctlEnv, runDmrctl, seedSeed003Queues } from '../support/seed003-queues.js';

describe('dmrctl queues migrate killed mid-run', () => {
  let rabbit: RabbitVhostHandle | undefined;
  let registry: RegistryFile | undefined;
  let receiver: Receiver | undefined;
  let run: DmrctlRun | undefined;
  const started: Array<{ stop: () => Promise<void> }> = [];

  afterEach(async () => {
    await run?.kill9();
    for (const component of started.splice(0).reverse()) await component.stop();
    await receiver?.close();
    registry?.remove();
    await rabbit?.cleanup();
  });

  it('kill -9 after a few thousand messages, run again: every message reaches the endpoint exactly once', {
    timeout: 600_000,
  }, async () => {
    const vhost = await useRabbitVhost();
    rabbit = vhost;
    const sender = await makeIdentity('ec');
    const recipients: Identity[] = [await makeIdentity('ec'), await makeIdentity('ec')];
    const ids = recipients.map((recipient) => recipient.id);
    registry = new RegistryFile([sender, ...recipients]);
    receiver = await new Receiver().start();
    const seeded = await seedSeed003Queues(vhost, sender, [
      { recipient: recipients[0] as Identity, waiting: 6000, deadLetters: 10 },
      { recipient: recipients[1] as Identity, waiting: 4000, deadLetters: 10 },
    ]);
    const server = await startServer(serverEnv(vhost, registry.url, { RABBITMQ_DEFAULT_TTL: '900000' }));
    started.push({ stop: () => server.server.stop() });
    const env = dmrctlEnv(vhost);
    const args = ['queues', 'migrate', '--agent-ids', ids.join(','), '--window', '200', '--progress-ms', '100'];

    run = new DmrctlRun(args, env);
    const progressOf = () => Number([...(run?.stderr ?? '').matchAll(/: (\d+) of ~6000 /g)].at(-1)?.[1] ?? 0);
    await waitUntil(() => progressOf() >= 2000 || run?.child.exitCode !== null, 120_000, 'the move passed 2000 messages');
    await run.kill9();
    expect(run.child.signalCode, 'dmrctl was killed, it did not finish first').toBe('SIGKILL');
    const sourceLeft = await queueDepth(vhost, ids[0] as string);
    const inDmr = await queueDepth(vhost, agentQueueName(ids[0] as string));
    expect(sourceLeft, 'the kill came mid-run').toBeGreaterThan(0);
    expect(sourceLeft + inDmr, 'nothing lost at rest: every message is in the source, in DMR, or both').toBeGreaterThanOrEqual(6000);
    const copiesAfterKill = sourceLeft + inDmr - 6000;

    const again = await runDmrctl(args, env);
    expect(again.code, again.stderr + again.stdout).toBe(0);
    expect(await Promise.all([...ids, ...ids.map((id) => `${id}.dlq`)].map((name) => queueDepth(vhost, name)))).toEqual([0, 0, 0, 0]);
    const queued = await Promise.all(ids.map((id) => queueDepth(vhost, agentQueueName(id))));
    expect(queued[0]).toBe(6000 + copiesAfterKill);
    expect(queued[1]).toBe(4000);
    process.stderr.write(`[queue-migration-crash] killed at ~${inDmr} moved; ${copiesAfterKill} message(s) queued twice by the crash\n`);
    const deadLetters = await peekQueue(vhost, agentDeadLetterQueueName(ids[0] as string), 10);
    expect(new Set(deadLetters.map((message) => (JSON.parse(message.body) as { id: string }).id))).toEqual(
      new Set(seeded.deadLetterIds.get(ids[0] as string)),
    );

    for (const recipient of recipients) {
      // the sink shares this process's event loop: a late answer must not time out and be posted again (see queue-migration.test.ts)
      const agent = await startAgent(recipient, server.url, receiver.url, { OUTGOING_MESSAGE_TIMEOUT_MS: '120000' });
      started.push({ stop: () => agent.agent.stop() });
    }
    const total = 10_000 + copiesAfterKill;
    const settled = () => server.logs.lines.filter((line) => line.stage === 'delivery' && line.result === 'delivered').length;
    await waitUntil(() => settled() >= total, 300_000, `the server settled ${total} deliveries (copies included)`);
    const got = receiver.received.map((message) => message.id);
    expect(new Set(got).size, 'no message twice at the endpoint').toBe(got.length);
    expect(got.sort()).toEqual(ids.flatMap((id) => seeded.waitingIds.get(id) ?? []).sort());
  });
});
