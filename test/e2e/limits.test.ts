// Issue 15, finding 15: per-agent limits over real sockets, real TLS and a real RabbitMQ. A raw Socket.IO client
// floods routes and handshakes and sends oversized frames before authenticating; the server refuses with catalog
// codes, loses nothing it accepted, and keeps serving the well-behaved agents.
import { randomUUID } from 'node:crypto';
import {
  AGENT_NAMESPACE,
  agentDeadLetterQueueName,
  agentQueueName,
  createAgentToken,
  EVENTS,
  importPrivateKey,
  type SendAck,
} from '@dmr/shared';
import amqp from 'amqplib';
import { io, Manager, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Identity,
  makeIdentity,
  postMessage,
  Receiver,
  RegistryFile,
  type RunningServer,
  serverEnv,
  startAgent,
  startServer,
  testPki,
  v1Body,
  waitUntil,
} from '../support/dmr-system.js';
import { type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';
import { connectRawAgent } from '../support/raw-agent.js';

const FAKE_JWE = 'eyJhbGciOiJSU0EifQ.a2V5.aXY.Y2lwaGVy.dGFn';

function wireMessage(sender: Identity, recipient: Identity, payload = FAKE_JWE) {
  return {
    id: randomUUID(),
    timestamp: new Date().toISOString(),
    senderId: sender.id,
    recipientId: recipient.id,
    type: 'ChatMessage',
    payload,
  };
}

async function queueDepth(amqpUrl: string, queue: string): Promise<number> {
  const connection = await amqp.connect(amqpUrl);
  try {
    const channel = await connection.createChannel();
    return (await channel.checkQueue(queue)).messageCount;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** How an engine.io connection ended, or 'open' if it was still open after `waitMs` (then it is closed here). */
function closeOrTimeout(manager: Manager, waitMs: number): Promise<string> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      // resolved first: closing here emits 'close' ("forced close") synchronously
      resolve('open');
      manager.engine?.close();
    }, waitMs);
    manager.engine?.once('close', (reason: string) => {
      clearTimeout(timer);
      resolve(`closed: ${reason}`);
    });
  });
}

/** An authenticated Socket.IO client over the given transports (plaintext server). */
async function connectWithTransports(serverUrl: string, identity: Identity, transports: string[]): Promise<Socket> {
  const token = await createAgentToken(identity.id, importPrivateKey(identity.privatePem));
  const socket = io(`${serverUrl}${AGENT_NAMESPACE}`, { auth: { token }, transports, reconnection: false, forceNew: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

/** An engine.io connection that never authenticates (TLS with the test CA, no client certificate, no token). */
async function openUnauthenticated(serverUrl: string): Promise<Manager> {
  const manager = new Manager(serverUrl, {
    transports: ['websocket'],
    reconnection: false,
    autoConnect: false,
    ca: (await testPki()).caCert,
  });
  await new Promise<void>((resolve, reject) => manager.open((error) => (error ? reject(error) : resolve())));
  return manager;
}

describe('per-agent limits', () => {
  let rabbit: RabbitVhostHandle;
  let registry: RegistryFile;
  let a: Identity;
  let b: Identity;
  const started: Array<() => Promise<void> | void> = [];

  async function server(extra: Record<string, string> = {}, target: RabbitVhostHandle = rabbit): Promise<RunningServer> {
    const running = await startServer(serverEnv(target, registry.url, extra));
    started.push(() => running.server.stop());
    return running;
  }

  beforeAll(async () => {
    rabbit = await useRabbitVhost();
  });
  afterAll(async () => {
    await rabbit.cleanup();
  });
  afterEach(async () => {
    for (const stop of started.splice(0).reverse()) await stop();
    registry.remove();
  });

  async function freshWorld(): Promise<void> {
    a = await makeIdentity('ec');
    b = await makeIdentity('ec');
    registry = new RegistryFile([a, b]);
  }

  it('refuses routes beyond DMR_MAX_IN_FLIGHT_PER_AGENT at once with DMR_ROUTE_AGENT_BUSY, queues every accepted one, and keeps serving', async () => {
    await freshWorld();
    const s1 = await server({ DMR_MAX_IN_FLIGHT_PER_AGENT: '16' });
    const flooder = await connectRawAgent(s1.url, a);
    started.push(() => flooder.close());
    // 1000 routes without awaiting a single ack
    const acks = (await Promise.all(
      Array.from({ length: 1000 }, () => flooder.socket.timeout(30_000).emitWithAck(EVENTS.messageToServer, wireMessage(a, b))),
    )) as SendAck[];
    const ok = acks.filter((ack) => ack.status === 'ok').length;
    const busy = acks.filter((ack) => ack.status === 'error' && ack.error === 'DMR_ROUTE_AGENT_BUSY');
    expect(busy.length).toBeGreaterThan(0);
    expect(ok).toBeGreaterThanOrEqual(16);
    expect(ok + busy.length).toBe(1000);
    expect(busy[0]?.reason).toMatch(/DMR_MAX_IN_FLIGHT_PER_AGENT/);
    // every accepted message is in B's queue, no refused one is
    await waitUntil(async () => (await queueDepth(rabbit.amqpUrl, agentQueueName(b.id))) === ok, 10_000, 'accepted messages queued');
    // the instance stays healthy: ready, and both the flooder and another agent are served
    expect(s1.server.readiness().isReady).toBe(true);
    expect(await flooder.send(wireMessage(a, b))).toEqual({ status: 'ok' });
    const other = await connectRawAgent(s1.url, b);
    started.push(() => other.close());
    expect(await other.send(wireMessage(b, a))).toEqual({ status: 'ok' });
    expect(s1.logs.find({ code: 'DMR_ROUTE_AGENT_BUSY', msg: 'message outcome' }).length).toBe(busy.length);
  });

  it('rate-limits handshakes per agent id (DMR_HANDSHAKE_RATE_PER_AGENT): 50 in a second, 10 admitted', async () => {
    await freshWorld();
    const s1 = await server({ DMR_HANDSHAKE_RATE_PER_AGENT: '10' });
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, async () => {
        try {
          const raw = await connectRawAgent(s1.url, a);
          raw.close();
          return 'connected';
        } catch (error) {
          return String((error as { data?: { code?: string } }).data?.code);
        }
      }),
    );
    expect(outcomes.filter((outcome) => outcome === 'connected')).toHaveLength(10);
    expect(outcomes.filter((outcome) => outcome === 'DMR_AUTH_RATE_LIMITED')).toHaveLength(40);
    // another agent is not affected
    const other = await connectRawAgent(s1.url, b);
    started.push(() => other.close());
    expect(await other.send(wireMessage(b, a))).toEqual({ status: 'ok' });
  });

  it('refuses an address before verifying its tokens after DMR_HANDSHAKE_FAILURES_PER_ADDRESS failed handshakes', async () => {
    await freshWorld();
    const s1 = await server({ DMR_HANDSHAKE_FAILURES_PER_ADDRESS: '5' });
    const stranger = await makeIdentity('ec');
    const codes: string[] = [];
    for (let i = 0; i < 8; i++) {
      const error = await connectRawAgent(s1.url, stranger).then(
        (raw) => {
          raw.close();
          return undefined;
        },
        (refusal: { data?: { code?: string } }) => refusal,
      );
      codes.push(String(error?.data?.code));
    }
    expect(codes).toEqual([...Array(5).fill('DMR_AUTH_UNKNOWN_AGENT'), ...Array(3).fill('DMR_AUTH_RATE_LIMITED')]);
    expect(s1.logs.find({ code: 'DMR_AUTH_RATE_LIMITED' }).length).toBe(3);
  });

  it('cuts an unauthenticated connection that sends a 1 MiB frame, yet takes large messages once authenticated', async () => {
    await freshWorld();
    const s1 = await server();
    const stranger = await openUnauthenticated(s1.url);
    // a Socket.IO CONNECT to the agent namespace whose auth payload is 1 MiB: the expensive unauthenticated input
    // (Socket.IO refuses it with connect_error and keeps the connection); only the frame limit cuts it before it is buffered
    stranger.engine?.send(`0${AGENT_NAMESPACE},${JSON.stringify({ token: 'x'.repeat(1024 * 1024) })}`);
    expect(await closeOrTimeout(stranger, 5000)).toMatch(/^closed/);

    const agent = await connectRawAgent(s1.url, a);
    started.push(() => agent.close());
    // 200 KB: above the 64 KiB pre-authentication limit, below DMR_MAX_MESSAGE_BYTES
    const large = () => wireMessage(a, b, `eyJhbGciOiJSU0EifQ.a2V5.aXY.${'A'.repeat(200_000)}.dGFn`);
    expect(await agent.send(large())).toEqual({ status: 'ok' });
    // the same over long-polling, and over a websocket that upgraded from polling after the handshake (seed 003 clients);
    // on a plaintext server: the client's polling transport does not present client certificates
    const plain = await startServer(serverEnv(rabbit, registry.url), { plaintext: true });
    started.push(() => plain.server.stop());
    for (const transports of [['polling'], ['polling', 'websocket']]) {
      const client = await connectWithTransports(plain.url, a, transports);
      started.push(() => void client.close());
      if (transports.length > 1) await waitUntil(() => client.io.engine.transport.name === 'websocket', 5000, 'upgraded');
      expect(await client.timeout(10_000).emitWithAck(EVENTS.messageToServer, large())).toEqual({ status: 'ok' });
    }
  });

  it('closes a connection that does not authenticate within DMR_PREAUTH_TIMEOUT_MS, and keeps the main namespace closed', async () => {
    await freshWorld();
    const s1 = await server({ DMR_PREAUTH_TIMEOUT_MS: '500' });
    const idle = await openUnauthenticated(s1.url);
    expect(await closeOrTimeout(idle, 5000)).toMatch(/^closed/);

    // joining "/" would count as "joined a namespace" and keep the connection past the timeout
    const main = io(`${s1.url}/`, { transports: ['websocket'], reconnection: false, forceNew: true, ca: (await testPki()).caCert });
    started.push(() => void main.close());
    const joined = await new Promise<string>((resolve) => {
      main.once('connect', () => resolve('connected'));
      main.once('connect_error', (error) => resolve(`refused: ${error.message}`));
    });
    expect(joined).toMatch(/^refused/);
  });

  it('bounds a queue with RABBITMQ_MAX_QUEUE_LENGTH: the next send gets 503 DMR_ROUTE_QUEUE_FULL, nothing accepted is lost', async () => {
    await freshWorld();
    // a vhost of its own: the policy's max-length would otherwise reach the other tests' queues
    const own = await useRabbitVhost();
    started.push(() => own.cleanup());
    const receiver = await new Receiver().start();
    started.push(() => receiver.close());
    const s1 = await server({ RABBITMQ_MAX_QUEUE_LENGTH: '5' }, own);
    const agentA = await startAgent(a, s1.url, receiver.url);
    started.push(() => agentA.agent.stop());

    // B is offline: its queue fills up
    const accepted: string[] = [];
    let refusal: Awaited<ReturnType<typeof postMessage>> | undefined;
    let retryAfter: string | null = null;
    for (let i = 0; i < 20 && !refusal; i++) {
      const body = v1Body(b.id);
      const response = await fetch(`${agentA.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const answer = { status: response.status, body: (await response.json()) as Record<string, unknown> };
      if (answer.status === 202) accepted.push(body.id);
      else {
        refusal = answer;
        retryAfter = response.headers.get('retry-after');
      }
    }
    expect(refusal).toMatchObject({ status: 503, body: { code: 'DMR_ROUTE_QUEUE_FULL', serverCode: 'DMR_ROUTE_QUEUE_FULL' } });
    expect(Number(retryAfter)).toBeGreaterThan(0);
    // RabbitMQ's quorum queue takes max-length + 1 before it rejects
    expect(accepted.length).toBeGreaterThanOrEqual(5);
    expect(accepted.length).toBeLessThanOrEqual(6);
    expect(await queueDepth(own.amqpUrl, agentQueueName(b.id))).toBe(accepted.length);
    expect(await queueDepth(own.amqpUrl, agentDeadLetterQueueName(b.id))).toBe(0);

    // B comes online and gets exactly what was accepted; the queue has room again
    const agentB = await startAgent(b, s1.url, receiver.url);
    started.push(() => agentB.agent.stop());
    await waitUntil(() => receiver.received.length === accepted.length, 15_000, 'accepted messages delivered');
    expect(receiver.received.map((message) => message.id).sort()).toEqual([...accepted].sort());
    expect((await postMessage(agentA.url, v1Body(b.id))).status).toBe(202);
  });
});
