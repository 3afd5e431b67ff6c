// Probe (not part of the bench run): RabbitMQ CPU per consumer operation on N quorum queues with single active
// consumer (dmr.agent.* arguments), CONCURRENCY at a time like the scale phase's reconnect storm: what an agent's
// connect costs the broker today (channel.open + basic.qos + basic.consume) and its disconnect (channel.close), next to
// the parts a channel pool would keep (basic.consume and basic.cancel on a channel that stays open). The broker's CPU
// is read from /proc after each step plus a settle pause, so background work of the node (Raft ticks) is included.
// MGMT=1 enables the management plugin with the bench's statistics settings; EXTRA adds rabbitmq.conf lines.
// Run: source scripts/node-env.sh && N=1000 node bench/probes/consumer-ops-cost.mjs
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_QUEUE_ARGUMENTS } from '@dmr/shared';
import { startRabbitNode } from '@dmr/testkit';
import amqp from 'amqplib';
import { cpuMsOf } from '../lib/proc-stats.mjs';

const N = Number(process.env.N ?? 1000);
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const CONCURRENCY = 20;
const SETTLE_MS = 1500;
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const baseDir = mkdtempSync(join(tmpdir(), 'dmr-probe-'));
mkdirSync(join(baseDir, 'conf.d'), { recursive: true });
writeFileSync(
  join(baseDir, 'conf.d', '90-bench.conf'),
  `channel_max = 16000\ncollect_statistics_interval = 30000\nmanagement.rates_mode = none\n${process.env.EXTRA ?? ''}`,
);
const node = await startRabbitNode({ name: `dmrprobe-${process.pid}`, baseDir, management: process.env.MGMT === '1' });
const pid = Number(readFileSync(join(baseDir, 'rabbitmq.pid'), 'utf8').trim());

async function inParallel(items, work) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

async function step(label, work) {
  const before = cpuMsOf(pid) ?? 0;
  const startedAt = performance.now();
  await work();
  const wallMs = performance.now() - startedAt;
  await pause(SETTLE_MS);
  const perOp = ((cpuMsOf(pid) ?? 0) - before) / N;
  console.log(`${label.padEnd(36)} rabbitmq ${perOp.toFixed(2)} ms per op   wall ${Math.round(wallMs)} ms`);
}

try {
  const model = await amqp.connect(node.amqpUrl(), { noDelay: true });
  const setup = await model.createChannel();
  const queues = Array.from({ length: N }, (_, index) => `dmr.agent.probe${index}`);
  for (const queue of queues) await setup.assertQueue(queue, { durable: true, arguments: AGENT_QUEUE_ARGUMENTS });
  await pause(3000);
  for (let round = 0; round < ROUNDS; round++) {
    let channels = [];
    await step('open + qos + consume (today)', () =>
      inParallel(queues, async (queue, index) => {
        const channel = await model.createChannel();
        await channel.prefetch(100);
        await channel.consume(queue, () => undefined);
        channels[index] = channel;
      }),
    );
    await step('close with consumer (today)', () => inParallel(channels, (channel) => channel.close()));
    channels = [];
    const tags = [];
    await step('open', () =>
      inParallel(queues, async (_, index) => {
        channels[index] = await model.createChannel();
      }),
    );
    await step('qos', () => inParallel(channels, (channel) => channel.prefetch(100)));
    await step('consume on an open channel (pool)', () =>
      inParallel(queues, async (queue, index) => {
        tags[index] = (await channels[index].consume(queue, () => undefined)).consumerTag;
      }),
    );
    await step('cancel (pool)', () => inParallel(queues, (_, index) => channels[index].cancel(tags[index])));
    await step('close without consumer', () => inParallel(channels, (channel) => channel.close()));
  }
  await model.close();
} finally {
  await node.stop();
  rmSync(baseDir, { recursive: true, force: true });
}
