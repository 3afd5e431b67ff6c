import { connect } from 'amqplib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RabbitVhostHandle, useRabbitVhost } from '../../../../test/support/rabbit.js';

describe('shared RabbitMQ node', () => {
  let rabbit: RabbitVhostHandle;

  beforeEach(async () => {
    rabbit = await useRabbitVhost();
  });

  afterEach(async () => {
    await rabbit.cleanup();
  });

  it('stores a persistent message in a quorum queue of a fresh vhost and gives it back', async () => {
    const connection = await connect(rabbit.amqpUrl, { noDelay: true });
    try {
      const channel = await connection.createConfirmChannel();
      const queue = 'smoke';
      await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      channel.sendToQueue(queue, Buffer.from('hello rabbit'), { persistent: true, contentType: 'text/plain' });
      await channel.waitForConfirms();

      const message = await channel.get(queue, { noAck: false });
      expect(message).not.toBe(false);
      if (message === false) return;
      expect(message.content.toString('utf8')).toBe('hello rabbit');
      expect(message.properties.deliveryMode).toBe(2);
      channel.ack(message);
    } finally {
      await connection.close();
    }
  });

  it('gives each test its own vhost, visible in the management API', async () => {
    const response = await fetch(`${rabbit.managementApiBase}/vhosts/${encodeURIComponent(rabbit.vhost)}`, {
      headers: { authorization: `Basic ${Buffer.from(`${rabbit.user}:${rabbit.password}`).toString('base64')}` },
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { name: string }).name).toBe(rabbit.vhost);
  });
});
