// The broker's own ceiling on this machine: raw amqplib, publish persistent + mandatory with publisher confirms
// (at most `window` unconfirmed) → direct exchange → quorum queue → consume with `prefetch` and one ack per message,
// on one connection with TCP_NODELAY — the same shape, message size and windows as the DMR server's path.
import amqp from 'amqplib';

const EXCHANGE = 'bench.ceiling';
const QUEUE = 'bench.ceiling.q';

/** Runs the ceiling for `warmupMs + measureMs` (at most `maxCount` messages); returns consumed msgs/s in the measure window. */
export async function measureCeiling({ amqpUrl, body, window, prefetch, warmupMs, measureMs, maxCount }) {
  const connection = await amqp.connect(amqpUrl, { noDelay: true });
  try {
    const setup = await connection.createChannel();
    await setup.assertExchange(EXCHANGE, 'direct', { durable: true });
    await setup.assertQueue(QUEUE, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await setup.bindQueue(QUEUE, EXCHANGE, QUEUE);
    await setup.purgeQueue(QUEUE);
    await setup.close();
    return await runCeiling(connection, { body, window, prefetch, warmupMs, measureMs, maxCount });
  } finally {
    await connection.close().catch(() => undefined);
  }
}

async function runCeiling(connection, { body, window, prefetch, warmupMs, measureMs, maxCount }) {
  const publisher = await connection.createConfirmChannel();
  const consumer = await connection.createChannel();
  await consumer.prefetch(prefetch);
  const startedAt = performance.now();
  const measureFrom = startedAt + warmupMs;
  const stopAt = measureFrom + measureMs;
  let consumedInWindow = 0;
  let consumed = 0;
  let published = 0;
  let confirmed = 0;
  let nacked = 0;
  await consumer.consume(QUEUE, (message) => {
    if (!message) return;
    consumed += 1;
    const now = performance.now();
    if (now >= measureFrom && now < stopAt) consumedInWindow += 1;
    consumer.ack(message);
  });
  await new Promise((resolve) => {
    const publishOne = () => {
      if (performance.now() >= stopAt || published >= maxCount) {
        if (confirmed === published) resolve();
        return;
      }
      published += 1;
      publisher.publish(EXCHANGE, QUEUE, body, { persistent: true, mandatory: true, contentType: 'application/json' }, (error) => {
        confirmed += 1;
        if (error) nacked += 1;
        publishOne();
      });
    };
    for (let i = 0; i < window; i++) publishOne();
  });
  const deadline = performance.now() + 10_000;
  while (consumed < published && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return {
    msgsPerS: (consumedInWindow * 1000) / measureMs,
    published,
    consumed,
    nacked,
    window,
    prefetch,
    messageBytes: body.length,
  };
}

/**
 * The broker's own latency floor: open loop at `rate` msg/s (persistent, confirms, quorum queue, consume + ack), latency
 * from the scheduled publish time to the consumer receiving it. DMR's end-to-end latency cannot be below this.
 */
export async function measureBrokerLatency({ amqpUrl, body, rate, durationMs }) {
  const connection = await amqp.connect(amqpUrl, { noDelay: true });
  try {
    const publisher = await connection.createConfirmChannel();
    const consumer = await connection.createChannel();
    await publisher.assertQueue(`${QUEUE}.latency`, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    const count = Math.round((rate * durationMs) / 1000);
    const due = new Float64Array(count);
    const latencies = [];
    const done = new Promise((resolve) => {
      void consumer.consume(`${QUEUE}.latency`, (message) => {
        if (!message) return;
        latencies.push(performance.now() - due[Number(message.properties.messageId)]);
        consumer.ack(message);
        if (latencies.length === count) resolve();
      });
    });
    const t0 = performance.now() + 10;
    for (let i = 0; i < count; i++) {
      due[i] = t0 + (i * 1000) / rate;
      const wait = due[i] - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      publisher.publish('', `${QUEUE}.latency`, body, { persistent: true, messageId: String(i) }, () => undefined);
    }
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    return { rate, count, received: latencies.length, latencies };
  } finally {
    await connection.close().catch(() => undefined);
  }
}
