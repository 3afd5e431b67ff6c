// The RabbitMQ behaviour DMR's ordering rests on (docs/reliability.md), checked against the real broker so an
// upgrade that changes it fails here first: a quorum queue gives the unacknowledged messages of a closed channel
// back to the head in delivery order, and puts a nacked (requeued) message behind every later one.
import { AGENT_QUEUE_ARGUMENTS } from '@dmr/shared';
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/dmr-system.js';
import { type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';

describe('RabbitMQ quorum queue order (the facts DMR relies on)', () => {
  let rabbit: RabbitVhostHandle | undefined;
  let connection: ChannelModel | undefined;

  afterEach(async () => {
    await connection?.close().catch(() => undefined);
    await rabbit?.cleanup();
    connection = undefined;
    rabbit = undefined;
  });

  async function queueWith(count: number): Promise<{ model: ChannelModel; queue: string }> {
    rabbit = await useRabbitVhost();
    const model = await amqp.connect(rabbit.amqpUrl, { noDelay: true });
    connection = model;
    const publisher = await model.createConfirmChannel();
    const queue = 'dmr.agent.order-probe';
    await publisher.assertQueue(queue, { durable: true, arguments: AGENT_QUEUE_ARGUMENTS });
    for (let index = 0; index < count; index++) publisher.sendToQueue(queue, Buffer.from(String(index)), { persistent: true });
    await publisher.waitForConfirms();
    return { model, queue };
  }

  async function consume(channel: Channel, queue: string, prefetch: number): Promise<ConsumeMessage[]> {
    const got: ConsumeMessage[] = [];
    await channel.prefetch(prefetch);
    await channel.consume(queue, (message) => {
      if (message) got.push(message);
    });
    await waitUntil(() => got.length >= prefetch, 10_000, `${prefetch} deliveries`);
    return got;
  }

  const numbers = (messages: readonly ConsumeMessage[]) => messages.map((message) => Number(message.content.toString()));

  it('a closed channel returns its unacknowledged messages to the head, in delivery order', async () => {
    const { model, queue } = await queueWith(120);
    const first = await model.createChannel();
    const held = await consume(first, queue, 50);
    // acknowledge out of order, as per-chat lanes do
    for (const message of held.filter((_, index) => index % 3 === 0)) first.ack(message);
    await first.close();
    const next = await consume(await model.createChannel(), queue, 60);
    const expected = [
      ...Array.from({ length: 50 }, (_, index) => index).filter((index) => index % 3 !== 0),
      50,
      51,
      52,
      53,
      54,
      55,
      56,
      57,
      58,
      59,
    ];
    expect(numbers(next).slice(0, expected.length)).toEqual(expected);
  });

  it('a nacked (requeued) message goes behind every later one: DMR retries in place instead', async () => {
    const { model, queue } = await queueWith(20);
    const channel = await model.createChannel();
    await channel.prefetch(5);
    const order: number[] = [];
    await channel.consume(queue, (message) => {
      if (!message) return;
      const value = Number(message.content.toString());
      // the first delivery of message 0 fails and is requeued, everything else succeeds
      if (value === 0 && !order.includes(0)) channel.nack(message, false, true);
      else channel.ack(message);
      order.push(value);
    });
    await waitUntil(() => order.length >= 21, 10_000, 'every message, and message 0 again');
    expect(order).toEqual([...Array.from({ length: 20 }, (_, index) => index), 0]);
  });
});
