/**
 * The request body limit of POST /v1/messages (DMR_MAX_MESSAGE_BYTES) over real HTTP on a socket: bodies just under,
 * at, just over and far over (20 MiB) the limit, each sent with Content-Length and chunked. An oversized body must
 * get a 413 the client can read (status, code, limit), never a connection reset. The agent's link goes to a
 * STAND-IN server (TestDmrServer: a real Socket.IO peer without RabbitMQ, acking at once), so that bodies within
 * the limit get their 202 without a broker: this file is about the HTTP layer only.
 */
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeys } from '../helpers/keys.js';
import { v1Message } from '../helpers/messages.js';
import { type AgentFixture, makeAgent, waitUntilReady } from './helpers/agent-fixture.js';
import { Receiver } from './helpers/receiver.js';
import { TestDmrServer } from './helpers/test-dmr-server.js';

const LIMIT_BYTES = 65_536;
const FAR_OVER_BYTES = 20 * 1024 * 1024;
const CHUNK_BYTES = 16 * 1024;

/** What the client saw: the answer it read, and any socket error (a reset shows here). */
interface Exchange {
  readonly status: number | undefined;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly error: string | undefined;
}

/** A valid v1 body of exactly `bytes` bytes (the content is padded), so sizes around the limit stay valid JSON. */
function bodyOfSize(recipientId: string, bytes: number): Buffer {
  const message = v1Message(recipientId);
  const base = Buffer.byteLength(JSON.stringify(message));
  const entry = message.payload.messages[0];
  if (!entry) throw new Error('no message entry');
  const padding = bytes - base;
  if (padding < 0) throw new Error(`a body of ${bytes} bytes is too small for a message`);
  const padded = { ...message, payload: { ...message.payload, messages: [{ ...entry, content: entry.content + 'x'.repeat(padding) }] } };
  const buffer = Buffer.from(JSON.stringify(padded));
  expect(buffer.length).toBe(bytes);
  return buffer;
}

/**
 * POSTs `body` over a fresh connection and waits until the socket closed. With `chunked`, no Content-Length: the
 * body goes as 16 KiB chunks. Every write is queued before any answer arrives, as a client streaming a file would.
 */
function post(port: number, body: Buffer, framing: 'content-length' | 'chunked'): Promise<Exchange> {
  return new Promise((resolve) => {
    let status: number | undefined;
    let headers: Exchange['headers'] = {};
    let text = '';
    let error: string | undefined;
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/v1/messages',
      agent: false,
      headers: { 'content-type': 'application/json', ...(framing === 'content-length' ? { 'content-length': body.length } : {}) },
    });
    req.on('response', (response) => {
      status = response.statusCode;
      headers = response.headers;
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('error', (cause: Error) => {
        error ??= `${(cause as NodeJS.ErrnoException).code ?? ''} ${cause.message}`;
      });
    });
    req.on('error', (cause: Error) => {
      error ??= `${(cause as NodeJS.ErrnoException).code ?? ''} ${cause.message}`;
    });
    req.on('close', () => resolve({ status, headers, text, error }));
    if (framing === 'content-length') {
      req.end(body);
      return;
    }
    for (let offset = 0; offset < body.length; offset += CHUNK_BYTES) req.write(body.subarray(offset, offset + CHUNK_BYTES));
    req.end();
  });
}

describe('against a stand-in server (TestDmrServer): the body limit of POST /v1/messages over real HTTP', () => {
  let server: TestDmrServer;
  let receiver: Receiver;
  let sender: AgentFixture;
  let port: number;
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
      env: { DMR_MAX_MESSAGE_BYTES: String(LIMIT_BYTES) },
    });
    await sender.agent.start();
    await waitUntilReady(sender.agent);
    port = (sender.agent.app.server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await sender.agent.stop();
    await server.close();
    await receiver.close();
  });

  describe.each(['content-length', 'chunked'] as const)('with %s framing', (framing) => {
    it.each([
      ['just under', LIMIT_BYTES - 1],
      ['at', LIMIT_BYTES],
    ])('accepts a body %s the limit (%i bytes) with 202', async (_label, bytes) => {
      const body = bodyOfSize(recipientId, bytes);
      const exchange = await post(port, body, framing);
      expect(exchange).toMatchObject({ status: 202, error: undefined });
      const { id } = JSON.parse(body.toString()) as { id: string };
      expect(JSON.parse(exchange.text)).toEqual({ id, status: 'accepted' });
      expect(server.received.map((wire) => wire.id)).toContain(id);
    });

    it.each([
      ['just over', LIMIT_BYTES + 1],
      ['far over', FAR_OVER_BYTES],
    ])('answers a body %s the limit (%i bytes) with a 413 the client reads, then closes', async (_label, bytes) => {
      const body = bodyOfSize(recipientId, bytes);
      const exchange = await post(port, body, framing);
      expect(exchange.error, 'the client read the answer without a reset').toBeUndefined();
      expect(exchange.status).toBe(413);
      expect(exchange.headers.connection).toBe('close');
      expect(JSON.parse(exchange.text)).toEqual({
        statusCode: 413,
        code: 'DMR_VALIDATION_TOO_LARGE',
        message: `the message exceeds the limit of ${LIMIT_BYTES} bytes (DMR_MAX_MESSAGE_BYTES)`,
        limitBytes: LIMIT_BYTES,
      });
      const { id } = JSON.parse(body.toString()) as { id: string };
      expect(
        server.received.map((wire) => wire.id),
        'nothing of it was sent',
      ).not.toContain(id);
    });
  });
});
