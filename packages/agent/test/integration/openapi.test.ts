/**
 * The agent's OpenAPI 3.1 document: the committed packages/agent/openapi.json is what a running agent serves at
 * GET /v1/openapi.json, it validates with a real OpenAPI validator (@seriousme/openapi-schema-validator, against the
 * official 3.1 schema), it lists every status of POST /v1/messages, and real answers of a running agent validate
 * against the response schema the document gives for their status. The link goes to a STAND-IN server
 * (TestDmrServer: a real Socket.IO peer without RabbitMQ) so a test can make it ack, never ack, or go away on cue.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Compile } from 'typebox/compile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeys } from '../helpers/keys.js';
import { v1Message } from '../helpers/messages.js';
import { type AgentFixture, makeAgent, waitUntilReady } from './helpers/agent-fixture.js';
import { Receiver } from './helpers/receiver.js';
import { TestDmrServer } from './helpers/test-dmr-server.js';
import { waitFor } from './helpers/wait-for.js';

type Json = Record<string, unknown>;

const COMMITTED_PATH = new URL('../../openapi.json', import.meta.url);
const committed = JSON.parse(readFileSync(COMMITTED_PATH, 'utf8')) as Json;

/** A copy of `schema` with every `#/components/schemas/<name>` reference replaced by that schema (none is recursive). */
function resolveRefs(document: Json, schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map((item) => resolveRefs(document, item));
  if (typeof schema !== 'object' || schema === null) return schema;
  const ref = (schema as Json).$ref;
  if (typeof ref === 'string') {
    const name = ref.replace('#/components/schemas/', '');
    const components = (document.components as Json).schemas as Json;
    return resolveRefs(document, components[name]);
  }
  return Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, resolveRefs(document, value)]));
}

function sendMessageResponses(document: Json): Json {
  const paths = document.paths as Json;
  return ((paths['/v1/messages'] as Json).post as Json).responses as Json;
}

/** The schema the document gives for a JSON answer of POST /v1/messages with `status`. */
function responseSchema(document: Json, status: number): unknown {
  const response = sendMessageResponses(document)[String(status)] as Json | undefined;
  if (!response) throw new Error(`the document has no ${status} answer for POST /v1/messages`);
  return resolveRefs(document, ((response.content as Json)['application/json'] as Json).schema);
}

describe('the OpenAPI document of the agent API (committed packages/agent/openapi.json)', () => {
  it('is a valid OpenAPI 3.1 document for a real validator', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(committed));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('is refused by the same validator once broken (the check can fail)', async () => {
    const broken = structuredClone(committed);
    delete broken.info;
    const result = await new Validator().validate(broken);
    expect(result.valid).toBe(false);
  });

  it('lists every status of POST /v1/messages, each error with the ErrorBody schema, 403 for the policy denial', () => {
    const responses = sendMessageResponses(committed);
    expect(Object.keys(responses)).toEqual(expect.arrayContaining(['202', '400', '403', '413', '502', '503', '504']));
    for (const [status, response] of Object.entries(responses)) {
      if (status === '202') continue;
      const schema = ((response as Json).content as Json)['application/json'] as Json;
      expect(JSON.stringify(schema.schema), `${status} answers an ErrorBody`).toContain('#/components/schemas/ErrorBody');
    }
    expect(String((responses['403'] as Json).description)).toMatch(/DMR_POLICY_DENIED/);
    expect(JSON.stringify(responses['403'])).toContain('"enum":["DMR_POLICY_DENIED"]');
    expect(JSON.stringify(responses['503'])).toContain('DMR_POLICY_UNAVAILABLE');
    expect((responses['503'] as Json).headers).toEqual({ 'Retry-After': { $ref: '#/components/headers/RetryAfter' } });
  });

  it('describes the ids of a message as UUIDs', () => {
    const body = resolveRefs(committed, { $ref: '#/components/schemas/V1MessageBody' }) as Json;
    const properties = body.properties as Json;
    const payload = (properties.payload as Json).properties as Json;
    const entry = ((payload.messages as Json).items as Json).properties as Json;
    const chat = (payload.chat as Json).properties as Json;
    const ids = [properties.id, properties.recipientId, chat.id, entry.id, entry.chatId] as Json[];
    expect(ids.map((schema) => schema.format)).toEqual(['uuid', 'uuid', 'uuid', 'uuid', 'uuid']);
  });
});

describe('against a stand-in server (TestDmrServer): the OpenAPI document a running agent serves', () => {
  let server: TestDmrServer;
  let receiver: Receiver;
  let sender: AgentFixture;
  let baseUrl: string;
  let isServerClosed = false;
  const recipientId = randomUUID();

  beforeAll(async () => {
    receiver = await Receiver.start();
    const senderKeys = generateKeys('ec');
    const senderId = randomUUID();
    server = await TestDmrServer.start([
      { id: senderId, publicPem: senderKeys.publicPem },
      { id: recipientId, publicPem: generateKeys('ec').publicPem },
    ]);
    sender = makeAgent({
      id: senderId,
      keys: senderKeys,
      serverUrl: server.url,
      endpointUrl: receiver.url,
      env: { DMR_MAX_MESSAGE_BYTES: '4096', MESSAGE_DELIVERY_TIMEOUT_MS: '300' },
    });
    await sender.agent.start();
    await waitUntilReady(sender.agent);
    baseUrl = `http://127.0.0.1:${(sender.agent.app.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await sender.agent.stop();
    if (!isServerClosed) await server.close();
    await receiver.close();
  });

  async function post(body: string): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${baseUrl}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return { status: response.status, body: await response.json() };
  }

  it('serves at GET /v1/openapi.json exactly the committed document (else run `npm run openapi`)', async () => {
    const response = await fetch(`${baseUrl}/v1/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(await response.json()).toEqual(committed);
  });

  it('answers POST /v1/messages with bodies that match the schema the document gives for their status', async () => {
    const neverAcked = v1Message(recipientId);
    server.ackPolicy = (message) => (message.id === neverAcked.id ? undefined : { status: 'ok' });
    const answers = [
      await post(JSON.stringify(v1Message(recipientId))),
      await post(JSON.stringify({ ...v1Message(recipientId), id: 'not-a-uuid' })),
      await post('{"id": '),
      await post(JSON.stringify(v1Message(randomUUID()))),
      await post(JSON.stringify({ ...v1Message(recipientId), padding: 'x'.repeat(8192) })),
      await post(JSON.stringify(neverAcked)),
    ];
    // last: with the relay gone, the agent answers 502 DMR_LINK_NOT_CONNECTED
    await server.close();
    isServerClosed = true;
    await waitFor('the link down', () => sender.agent.linkState !== 'connected');
    answers.push(await post(JSON.stringify(v1Message(recipientId))));

    expect(answers.map((answer) => answer.status)).toEqual([202, 400, 400, 400, 413, 504, 502]);
    for (const answer of answers) {
      const check = Compile(responseSchema(committed, answer.status) as never);
      expect([...check.Errors(answer.body)], `${answer.status} ${JSON.stringify(answer.body)}`).toEqual([]);
    }
  });
});
