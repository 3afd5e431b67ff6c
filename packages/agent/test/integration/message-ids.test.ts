/**
 * Ids per seed 003 over real HTTP: POST /v1/messages takes `id`, `recipientId`, `payload.chat.id`,
 * `payload.messages[].id` and `payload.messages[].chatId` as UUIDs only, and a 400 names the field; a recipient still
 * accepts what a peer relayed with other ids (lenient on what it receives). The link goes to a STAND-IN server
 * (TestDmrServer: a real Socket.IO peer without RabbitMQ) so a test can read what reached the relay (nothing, for a
 * refused body) and deliver a payload sealed with non-UUID ids, which no DMR agent sends any more.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { importPrivateKey, importPublicKey, sealPayload } from '@dmr/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeys, type TestKeys } from '../helpers/keys.js';
import { v1Message } from '../helpers/messages.js';
import { type AgentFixture, makeAgent, waitUntilReady } from './helpers/agent-fixture.js';
import { Receiver } from './helpers/receiver.js';
import { TestDmrServer } from './helpers/test-dmr-server.js';

const UUID_MESSAGE = 'must be a UUID (8-4-4-4-12 hex digits, e.g. 550e8400-e29b-41d4-a716-446655440000)';
/** Listed in the agent list under an id the relay's grammar allows but the API does not: refused as a format error. */
const LEGACY_AGENT = 'agent-b';

type Body = ReturnType<typeof v1Message>;

/** Sets one field of a copy of `body`, by the dotted path a 400 names it with. */
function withField(body: Body, path: string, value: string): Body {
  const copy = structuredClone(body) as unknown as Record<string, unknown>;
  const keys = path.split('.');
  const last = keys.pop() as string;
  let target = copy;
  for (const key of keys) target = target[key] as Record<string, unknown>;
  target[last] = value;
  return copy as unknown as Body;
}

describe('against a stand-in server (TestDmrServer): message ids are UUIDs on POST /v1/messages', () => {
  let server: TestDmrServer;
  let receiver: Receiver;
  let sender: AgentFixture;
  let senderKeys: TestKeys;
  let baseUrl: string;
  const recipientId = randomUUID();

  beforeAll(async () => {
    receiver = await Receiver.start();
    senderKeys = generateKeys('ec');
    const senderId = randomUUID();
    server = await TestDmrServer.start([
      { id: senderId, publicPem: senderKeys.publicPem },
      { id: recipientId, publicPem: generateKeys('ec').publicPem },
      { id: LEGACY_AGENT, publicPem: generateKeys('ec').publicPem },
    ]);
    sender = makeAgent({ id: senderId, keys: senderKeys, serverUrl: server.url, endpointUrl: receiver.url });
    await sender.agent.start();
    await waitUntilReady(sender.agent);
    baseUrl = `http://127.0.0.1:${(sender.agent.app.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await sender.agent.stop();
    await server.close();
    await receiver.close();
  });

  async function post(body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('accepts a body whose ids are all UUIDs (the control case)', async () => {
    const body = v1Message(recipientId);
    expect(await post(body)).toEqual({ status: 202, body: { id: body.id, status: 'accepted' } });
  });

  it.each([
    ['id', 'm-1'],
    ['id', '550e8400e29b41d4a716446655440000'],
    ['recipientId', LEGACY_AGENT],
    ['payload.chat.id', 'demo-chat'],
    ['payload.chat.id', '550e8400-e29b-41d4-a716-44665544000g'],
    ['payload.messages.0.id', 'message-1'],
    ['payload.messages.0.chatId', 'demo-chat'],
    ['payload.messages.0.chatId', ' 550e8400-e29b-41d4-a716-446655440000'],
  ])('answers 400 DMR_VALIDATION_FAILED naming %s when it is "%s", and sends nothing', async (path, value) => {
    const body = withField(v1Message(recipientId), path, value);
    const answer = await post(body);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      statusCode: 400,
      code: 'DMR_VALIDATION_FAILED',
      message: `invalid message: ${path}: ${UUID_MESSAGE}`,
      errors: [{ path, message: UUID_MESSAGE }],
    });
    const sentIds = server.received.map((wire) => wire.id);
    expect(sentIds, 'nothing reached the relay').not.toContain(body.id);
  });
});

describe('against a stand-in server (TestDmrServer) delivering what the test seals: relayed ids', () => {
  let server: TestDmrServer;
  let receiver: Receiver;
  let recipient: AgentFixture;

  afterAll(async () => {
    await recipient.agent.stop();
    await server.close();
    await receiver.close();
  });

  it('delivers a payload whose chat and message ids are not UUIDs (a sender from before the check)', async () => {
    const senderId = randomUUID();
    const senderKeys = generateKeys('ec');
    const recipientKeys = generateKeys('ec');
    const recipientId = randomUUID();
    receiver = await Receiver.start();
    server = await TestDmrServer.start([
      { id: senderId, publicPem: senderKeys.publicPem },
      { id: recipientId, publicPem: recipientKeys.publicPem },
    ]);
    recipient = makeAgent({ id: recipientId, keys: recipientKeys, serverUrl: server.url, endpointUrl: receiver.url });
    await recipient.agent.start();
    await waitUntilReady(recipient.agent);

    const body = withField(withField(v1Message(recipientId), 'payload.chat.id', 'demo-chat'), 'payload.messages.0.chatId', 'demo-chat');
    const metadata = { id: body.id, senderId, recipientId, type: body.type, timestamp: body.timestamp };
    const payload = await sealPayload(
      metadata,
      body.payload,
      importPrivateKey(senderKeys.privatePem),
      importPublicKey(recipientKeys.publicPem),
    );

    expect(await server.deliver(recipientId, { ...metadata, payload })).toEqual({ status: 'ok' });
    expect(receiver.requests.map((request) => request.body)).toEqual([{ ...body, senderId }]);
  });
});
