// AckBatcher against a real quorum queue: the broker's view after out-of-order settling with one delivery held, and
// what a channel close gives back.
import amqp, { type ChannelModel, type ConsumeMessage } from 'amqplib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RabbitVhostHandle, useRabbitVhost } from '../../../../test/support/rabbit.js';
import { AckBatcher } from '../../src/amqp/index.js';

const QUEUE = 'dmr.agent.ack-batcher';

describe('AckBatcher on RabbitMQ', () => {
  let rabbit: RabbitVhostHandle;
  let connection: ChannelModel;

  beforeEach(async () => {
    rabbit = await useRabbitVhost();
    connection = await amqp.connect(rabbit.amqpUrl);
    const setup = await connection.createConfirmChannel();
    await setup.assertQueue(QUEUE, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    for (let i = 1; i <= 10; i++) setup.sendToQueue(QUEUE, Buffer.from(`m${i}`), { persistent: true });
    await setup.waitForConfirms();
    await setup.close();
  });

  afterEach(async () => {
    await connection?.close().catch(() => undefined);
    await rabbit?.cleanup();
  });

  async function consumeAll(count: number) {
    const channel = await connection.createChannel();
    await channel.prefetch(100);
    const acks = new AckBatcher(channel);
    const received: ConsumeMessage[] = [];
    await channel.consume(QUEUE, (message) => {
      if (!message) return;
      acks.track(message);
      received.push(message);
    });
    await expect.poll(() => received.length).toBe(count);
    return { channel, acks, received };
  }

  it('settles everything but the held delivery, and the close gives back only that one', async () => {
    const { channel, acks, received } = await consumeAll(10);
    const held = received[3] as ConsumeMessage;
    for (const message of [...received].reverse()) if (message !== held) acks.ack(message);
    acks.flush();
    await channel.close();

    const check = await connection.createChannel();
    const again = await check.get(QUEUE, { noAck: true });
    expect(again ? again.content.toString() : again).toBe('m4');
    expect(await check.get(QUEUE, { noAck: true })).toBe(false);
  });

  it('sends the acks by itself at the end of the turn', async () => {
    const { channel, acks, received } = await consumeAll(10);
    for (const message of received) acks.ack(message);
    await new Promise((resolve) => setImmediate(resolve));
    // no flush() call: had the acks not gone out, this close would give all ten back
    await channel.close();

    const check = await connection.createChannel();
    expect(await check.get(QUEUE, { noAck: true })).toBe(false);
  });
});
