// Probe (not part of the bench run): what a consumer's end does to the order of a quorum queue with single active
// consumer, the question behind "pool consumer channels instead of closing them" (issue 17). A publisher keeps
// sending 0, 1, 2, …; consumer 1 acks everything except every 7th delivery (HOLD=1), which it keeps unacknowledged
// like a delivery in flight to an agent; then it ends by MODE; consumer 2 on a fresh channel reads on. In order
// means: consumer 2 gets the held messages first, then every later message in publish order.
//   MODE=close         channel.close (what dmr-server does today)
//   MODE=cancel-close  basic.cancel (cancel-ok awaited), then channel.close
//   MODE=cancel-nack   basic.cancel, then nack(requeue) of everything held, channel kept open (the pool idea)
//   MODE=cancel-keep   basic.cancel only, channel kept open (a pool with nothing held)
// BACKLOG=N puts N messages in the queue first, so consumer 1 is cancelled while a backlog waits behind its
// deliveries in transit (an agent that reconnects to a full queue and drops again).
// Run: source scripts/node-env.sh && MODE=cancel-keep BACKLOG=3000 ROUNDS=8 node bench/probes/cancel-order.mjs
import { AGENT_QUEUE_ARGUMENTS } from '@dmr/shared';
import { startRabbitNode } from '@dmr/testkit';
import amqp from 'amqplib';

const MODE = process.env.MODE ?? 'cancel-close';
const ROUNDS = Number(process.env.ROUNDS ?? 8);
const PREFETCH = Number(process.env.PREFETCH ?? 100);
const HOLD = process.env.HOLD === '1';
// messages in the queue before consumer 1 starts: a backlog behind the deliveries in transit
const BACKLOG = Number(process.env.BACKLOG ?? 0);
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function round(model, index) {
  const queue = `dmr.agent.probe${index}`;
  const publisher = await model.createConfirmChannel();
  await publisher.assertQueue(queue, { durable: true, arguments: AGENT_QUEUE_ARGUMENTS });
  let published = 0;
  for (; published < BACKLOG; published++) publisher.sendToQueue(queue, Buffer.from(String(published)), { persistent: true });
  await publisher.waitForConfirms();
  let isPublishing = true;
  const publishing = (async () => {
    while (isPublishing) {
      for (let i = 0; i < 20; i++) publisher.sendToQueue(queue, Buffer.from(String(published++)), { persistent: true });
      await publisher.waitForConfirms();
    }
  })();
  const first = await model.createChannel();
  await first.prefetch(PREFETCH);
  const acked = [];
  const held = [];
  let received = 0;
  const { consumerTag } = await first.consume(queue, (message) => {
    if (!message) return;
    received++;
    const value = Number(message.content.toString());
    if (HOLD && received % 7 === 0) held.push(value);
    else {
      acked.push(value);
      first.ack(message);
    }
  });
  await pause(BACKLOG > 0 ? 20 + Math.random() * 100 : 300 + Math.random() * 300);
  const beforeEnd = received;
  if (MODE === 'close') await first.close();
  else {
    await first.cancel(consumerTag);
    if (MODE === 'cancel-nack') first.nackAll(true);
    if (MODE === 'cancel-close') await first.close();
  }
  const duringCancel = received - beforeEnd;
  const second = await model.createChannel();
  await second.prefetch(100);
  const next = [];
  await second.consume(queue, (message) => {
    if (!message) return;
    next.push(Number(message.content.toString()));
    second.ack(message);
  });
  await pause(500);
  isPublishing = false;
  await publishing;
  await pause(1000);
  const lastAcked = Math.max(-1, ...acked);
  const later = Array.from({ length: published }, (_, value) => value).filter((value) => value > lastAcked && !held.includes(value));
  const expected = [...held, ...later];
  // a message consumer 1 acked may come again when the channel ended before RabbitMQ applied the ack: a duplicate
  // (the agent's duplicate window drops it), not a reordering, so those are left out of the comparison
  const ackedSet = new Set(acked);
  const duplicates = next.filter((value) => ackedSet.has(value)).length;
  const fresh = next.filter((value) => !ackedSet.has(value));
  const firstBreak = fresh.findIndex((value, i) => value !== expected[i]);
  const isInOrder = firstBreak < 0 || firstBreak >= Math.min(fresh.length, expected.length);
  const around = isInOrder
    ? ''
    : ` got …${fresh.slice(Math.max(0, firstBreak - 2), firstBreak + 3).join(',')}… expected …${expected.slice(Math.max(0, firstBreak - 2), firstBreak + 3).join(',')}…`;
  console.log(
    `round ${index} ${MODE}: published ${published}, consumer 1 got ${received} (${duringCancel} between cancel and cancel-ok), held ${held.length}; consumer 2 (${duplicates} duplicates) ${isInOrder ? 'IN ORDER' : `OUT OF ORDER at ${firstBreak}${around}`}`,
  );
  if (MODE === 'cancel-nack' || MODE === 'cancel-keep') await first.close().catch(() => undefined);
  await second.close();
  await publisher.close();
  return isInOrder;
}

const node = await startRabbitNode({ management: false });
try {
  const model = await amqp.connect(node.amqpUrl(), { noDelay: true });
  let outOfOrder = 0;
  for (let index = 0; index < ROUNDS; index++) if (!(await round(model, index))) outOfOrder++;
  console.log(`${MODE}: ${outOfOrder} of ${ROUNDS} rounds out of order`);
  await model.close();
} finally {
  await node.stop();
}
