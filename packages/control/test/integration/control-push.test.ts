/**
 * Config push on a real RabbitMQ (the run's private node, a vhost of this file's own): every committed write publishes
 * `{configVersion, kinds, at}` on the `dmr.control` fanout exchange, received on a queue bound to it as a server binds
 * one; a refused write publishes nothing; with the broker gone writes still succeed (announcements are hints) and the
 * skipped announcement is counted; after RabbitMQ drops the connection the announcer reconnects; without RABBITMQ_DEFAULT_HOST push is off.
 */
import { randomUUID } from 'node:crypto';
import { CONTROL_EXCHANGE, type ControlAnnouncement, controlQueueName, parseControlAnnouncement } from '@dmr/shared';
import amqp, { type ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RabbitVhostHandle, useRabbitVhost } from '../../../../test/support/rabbit.js';
import { type ControlFixture, IDENTITY_HEADER, injectIdentity, startControl } from './helpers/control-fixture.js';

let rabbit: RabbitVhostHandle;
let fixture: ControlFixture;
let connection: ChannelModel;
const received: ControlAnnouncement[] = [];

beforeAll(async () => {
  rabbit = await useRabbitVhost();
  fixture = await startControl(
    {
      RABBITMQ_DEFAULT_HOST: '127.0.0.1',
      RABBITMQ_DEFAULT_PORT: String(rabbit.amqpPort),
      RABBITMQ_DEFAULT_VHOST: rabbit.vhost,
      RABBITMQ_DEFAULT_USER: rabbit.user,
      RABBITMQ_DEFAULT_PASS: rabbit.password,
      RABBITMQ_DEFAULT_DEFAULT_RECONNECT_INTERVAL: '100',
    },
    { identify: injectIdentity },
  );
  await waitFor(() => fixture.control.announcer?.status === 'connected');
  await bindConsumer();
});

/** As a server does: an exclusive, auto-delete queue named `dmr.control.<instanceId>.<nonce>`, bound to the exchange, on a new connection. */
async function bindConsumer(): Promise<void> {
  connection = await amqp.connect(rabbit.amqpUrl);
  connection.on('error', () => undefined);
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue(controlQueueName('push-test', randomUUID().slice(0, 8)), {
    exclusive: true,
    autoDelete: true,
  });
  await channel.bindQueue(queue, CONTROL_EXCHANGE, '');
  await channel.consume(queue, (message) => {
    if (message === null) return;
    const announcement = parseControlAnnouncement(message.content);
    if (announcement.ok) received.push(announcement.value);
    channel.ack(message);
  });
}

afterAll(async () => {
  await connection?.close().catch(() => undefined);
  await fixture?.stop();
  await rabbit?.cleanup();
});

async function waitFor(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function send(method: 'POST' | 'PATCH', url: string, payload: unknown, headers: Record<string, string> = {}) {
  const response = await fixture.control.app.inject({
    method,
    url,
    headers: { [IDENTITY_HEADER]: 'admin', 'content-type': 'application/json', ...headers },
    payload: JSON.stringify(payload),
  });
  return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, unknown> };
}

function counter(result: string): Promise<number> {
  return fixture.control.metrics.announcementsTotal
    .get()
    .then((metric) => metric.values.find((value) => value.labels.result === result)?.value ?? 0);
}

describe('announcements on dmr.control', () => {
  it('each committed write is announced once with its configVersion and kinds', async () => {
    const start = await fixture.control.store().configVersion();
    expect((await send('POST', '/v1/agents', { id: 'pushed', name: 'Pushed' })).status).toBe(201);
    expect((await send('PATCH', '/v1/agents/pushed', { enabled: false }, { 'if-match': '"1"' })).status).toBe(200);
    expect((await send('POST', '/v1/policies', { document: { format: 'dmr-policy/v1', defaultDecision: 'deny', rules: [] } })).status).toBe(
      201,
    );
    await waitFor(() => received.length >= 3);
    expect(received.map(({ configVersion, kinds }) => ({ configVersion, kinds }))).toEqual([
      { configVersion: start + 1, kinds: ['registry'] },
      { configVersion: start + 2, kinds: ['registry'] },
      { configVersion: start + 3, kinds: ['policy'] },
    ]);
    for (const announcement of received) expect(Date.parse(announcement.at)).toBeGreaterThan(Date.now() - 60_000);
    expect(await counter('confirmed')).toBe(3);
  });

  it('a refused write announces nothing', async () => {
    const before = received.length;
    expect((await send('POST', '/v1/agents', { id: 'pushed', name: 'again' })).status).toBe(409);
    expect((await send('PATCH', '/v1/agents/pushed', { name: 'stale' }, { 'if-match': '"1"' })).status).toBe(412);
    // a later write's announcement arriving first proves the refused ones sent none
    expect((await send('POST', '/v1/agents', { id: 'pushed-2', name: 'Two' })).status).toBe(201);
    await waitFor(() => received.length > before);
    expect(received.slice(before).map((announcement) => announcement.kinds)).toEqual([['registry']]);
  });

  it('after RabbitMQ closes the connection, the announcer reconnects and announcements resume', async () => {
    const auth = { authorization: `Basic ${Buffer.from(`${rabbit.user}:${rabbit.password}`).toString('base64')}` };
    const url = `${rabbit.managementApiBase}/vhosts/${encodeURIComponent(rabbit.vhost)}/connections`;
    let listed: Array<{ name: string }> = [];
    // the management API lists a connection only once its stats were collected (every few seconds)
    for (let attempt = 0; attempt < 100 && listed.length < 2; attempt++) {
      listed = (await (await fetch(url, { headers: auth })).json()) as Array<{ name: string }>;
      if (listed.length < 2) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(listed.length).toBe(2);
    for (const { name } of listed) {
      await fetch(`${rabbit.managementApiBase}/connections/${encodeURIComponent(name)}`, { method: 'DELETE', headers: auth });
    }
    await waitFor(() => fixture.control.announcer?.status !== 'connected');
    await waitFor(() => fixture.control.announcer?.status === 'connected');
    await bindConsumer();
    const before = received.length;
    expect((await send('POST', '/v1/agents', { id: 'after-reconnect', name: 'Back' })).status).toBe(201);
    await waitFor(() => received.length > before);
    expect(received.at(-1)?.configVersion).toBe(await fixture.control.store().configVersion());
  });

  it('with no broker connection, writes still succeed and the skipped announcement is counted', async () => {
    const skippedBefore = await counter('skipped');
    await fixture.control.announcer?.stop();
    expect(fixture.control.announcer?.status).toBe('closed');
    expect((await send('POST', '/v1/agents', { id: 'while-down', name: 'Down' })).status).toBe(201);
    expect(await counter('skipped')).toBe(skippedBefore + 1);
  });
});

describe('without RABBITMQ_DEFAULT_HOST', () => {
  it('push is off and writes work', async () => {
    const quiet = await startControl({}, { identify: injectIdentity });
    try {
      expect(quiet.control.announcer).toBeUndefined();
      const created = await quiet.control.app.inject({
        method: 'POST',
        url: '/v1/agents',
        headers: { [IDENTITY_HEADER]: 'admin', 'content-type': 'application/json' },
        payload: '{"name":"quiet"}',
      });
      expect(created.statusCode).toBe(201);
      const ready = JSON.parse((await quiet.control.app.inject({ method: 'GET', url: '/v1/ready' })).body);
      expect(ready).toMatchObject({ status: 'ready', checks: { push: 'off', store: 'ok', lifecycle: 'running' } });
    } finally {
      await quiet.stop();
    }
  });
});
