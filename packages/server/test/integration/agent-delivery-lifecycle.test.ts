// AgentDelivery's start/stop against a real quorum queue with single active consumer (issue 15, findings 3 and 10):
// however start() and stop() interleave, no consumer outlives the last stop(), a superseded start() leaves no
// consumer behind, and a consumer RabbitMQ cancels is reported instead of leaving the delivery loop deaf.
import { Writable } from 'node:stream';
import { AGENT_QUEUE_ARGUMENTS, agentQueueName, createLogger, type DeliveryAck, type WireMessageBody } from '@dmr/shared';
import amqp, { type ChannelModel } from 'amqplib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RabbitVhostHandle, useRabbitVhost } from '../../../../test/support/rabbit.js';
import { AgentDelivery } from '../../src/gateway/agent-delivery.js';
import { createServerMetrics } from '../../src/obs/index.js';

const AGENT = 'agent-lifecycle';
const QUEUE = agentQueueName(AGENT);
const SETTINGS = { prefetch: 10, deliveryLimit: 5, redeliveryDelayMs: 50, redeliveryDelayMaxMs: 100, messageTtlMs: 0 };
const silent = createLogger({ name: 'test', level: 'error', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

function wire(id: string): WireMessageBody {
  return { id, timestamp: new Date().toISOString(), senderId: 'agent-a', recipientId: AGENT, type: 'ChatMessage', payload: 'a.b.c.d.e' };
}

describe('AgentDelivery lifecycle on RabbitMQ', () => {
  let rabbit: RabbitVhostHandle;
  let connection: ChannelModel;
  const deliveries: AgentDelivery[] = [];

  beforeEach(async () => {
    rabbit = await useRabbitVhost();
    connection = await amqp.connect(rabbit.amqpUrl);
    const setup = await connection.createChannel();
    await setup.assertQueue(QUEUE, { durable: true, arguments: AGENT_QUEUE_ARGUMENTS });
    await setup.close();
  });

  afterEach(async () => {
    for (const delivery of deliveries.splice(0)) await delivery.stop(0);
    await connection?.close().catch(() => undefined);
    await rabbit?.cleanup();
  });

  function makeDelivery(received: string[], onLost?: (reason: string) => void): AgentDelivery {
    const emit = async (message: WireMessageBody): Promise<DeliveryAck> => {
      received.push(message.id);
      return { status: 'ok' };
    };
    const broker = {
      openChannel: () => connection.createChannel(),
      publish: () => Promise.reject(new Error('no dead-lettering expected here')),
    };
    const delivery = new AgentDelivery(AGENT, emit, { broker, metrics: createServerMetrics(), log: silent }, SETTINGS, onLost);
    deliveries.push(delivery);
    return delivery;
  }

  /** The queue's consumer count as the queue itself reports it (queue.declare passive; not the lagging management stats). */
  async function consumerCount(): Promise<number> {
    const channel = await connection.createChannel();
    try {
      return (await channel.checkQueue(QUEUE)).consumerCount;
    } finally {
      await channel.close();
    }
  }

  /**
   * The quorum queue drops a closed channel's consumer a moment after the close completes (asynchronously, through
   * its Raft log), so the count is polled; an orphan consumer never goes away and fails the poll.
   */
  async function expectConsumers(count: number): Promise<void> {
    await expect.poll(consumerCount, { timeout: 3000, interval: 100 }).toBe(count);
  }

  async function publish(id: string): Promise<void> {
    const channel = await connection.createConfirmChannel();
    channel.sendToQueue(QUEUE, Buffer.from(JSON.stringify(wire(id))), { persistent: true });
    await channel.waitForConfirms();
    await channel.close();
  }

  /** Lets `turns` macrotask turns pass, so an interleaving lands on a different await of start(). */
  async function turns(count: number): Promise<void> {
    for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
  }

  // each offset lands the second call on another of start()'s awaits (open channel, prefetch, consume, done)
  const OFFSETS = [0, 1, 2, 3, 5, 8, 13];

  it.each(OFFSETS)('stop() %i turns into start() leaves no consumer, also once start() settles', async (offset) => {
    const delivery = makeDelivery([]);
    const starting = delivery.start();
    await turns(offset);
    await delivery.stop(0);
    await starting.catch(() => undefined);
    await expectConsumers(0);
  });

  it.each(OFFSETS)('a second start() %i turns into the first leaves exactly one consumer, and it delivers', async (offset) => {
    const received: string[] = [];
    const delivery = makeDelivery(received);
    const first = delivery.start();
    await turns(offset);
    await Promise.all([first, delivery.start()]);
    await expectConsumers(1);
    await publish(`m-${offset}`);
    // with an orphan consumer active on the single-active-consumer queue the message would never reach emit
    await expect.poll(() => received, { timeout: 5000 }).toEqual([`m-${offset}`]);
    await delivery.stop(0);
    await expectConsumers(0);
  });

  it('stop() is final: a start() after it consumes nothing', async () => {
    const delivery = makeDelivery([]);
    await delivery.start();
    await delivery.stop(0);
    expect(await delivery.start()).toBe(false);
    await expectConsumers(0);
  });

  it('reports a consumer RabbitMQ cancels (its queue was deleted) and closes its channel', async () => {
    const lost: string[] = [];
    const delivery = makeDelivery([], (reason) => lost.push(reason));
    await delivery.start();
    const admin = await connection.createChannel();
    await admin.deleteQueue(QUEUE);
    await admin.close();
    await expect.poll(() => lost, { timeout: 5000 }).toHaveLength(1);
    expect(lost[0]).toMatch(/cancelled the consumer/);
  });
});
