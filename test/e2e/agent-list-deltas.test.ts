// Issue 17, "Reconnect storms": versioned agent lists with deltas, over real servers, RabbitMQ, TLS and agents.
// An agent that reconnects holding the current list gets no list data; one that reconnects after a registry change
// gets only the delta (and relays to the added agent, not to the removed one); a seed 003 agent (no feature) still
// gets the whole list as data[0]; and all of it holds across server instances that share nothing.
import { randomUUID } from 'node:crypto';
import { type AddressInfo, connect, createServer, type Socket as NetSocket, type Server } from 'node:net';
import {
  AGENT_LIST_DELTA_FEATURE,
  AGENT_NAMESPACE,
  type AgentInfo,
  agentListVersion,
  createAgentToken,
  DELIVERY_DEADLINE_FEATURE,
  importPrivateKey,
} from '@dmr/shared';
import { io, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  agentLeaf,
  type Identity,
  makeIdentity,
  postMessage,
  Receiver,
  RegistryFile,
  type RunningAgent,
  type RunningServer,
  serverEnv,
  startAgent,
  startServer,
  testPki,
  v1Body,
  waitUntil,
} from '../support/dmr-system.js';
import { type RabbitVhostInfo, useRabbitVhost } from '../support/rabbit.js';

/** Stand-in for a load balancer in front of the instances: one port, forwarding to one instance or refusing everything. */
class SwitchProxy {
  readonly #server: Server = createServer((client) => this.#accept(client));
  readonly #live = new Set<NetSocket>();
  #targetPort: number | undefined;

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    return `https://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Forwards new connections to `port`; undefined drops every live connection and refuses new ones. */
  route(port: number | undefined): void {
    this.#targetPort = port;
    if (port === undefined) for (const socket of this.#live) socket.resetAndDestroy();
  }

  async close(): Promise<void> {
    this.route(undefined);
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: NetSocket): void {
    if (this.#targetPort === undefined) {
      client.resetAndDestroy();
      return;
    }
    const target = connect({ port: this.#targetPort, host: '127.0.0.1' });
    for (const socket of [client, target]) {
      this.#live.add(socket);
      socket
        .on('error', () => undefined)
        .on('close', () => {
          this.#live.delete(socket);
          client.destroy();
          target.destroy();
        });
    }
    client.pipe(target).pipe(client);
  }
}

/** The list events a bare Socket.IO client received (arguments and wire bytes), recorded from before the connect. */
interface ListClient {
  readonly events: Array<{ event: string; data: unknown[] }>;
  /** Bytes of the list event packets (`2/v1/dmr-agent-events,["dmr:agents:…-list",…]`) as they came off the socket. */
  listBytes(): number;
  /** Resolves once the server answered an event sent now: everything it wrote on connect has arrived by then. */
  barrier(): Promise<unknown>;
  close(): void;
}

const LIST_PACKET = /^2\/v1\/dmr-agent-events,\["dmr:agents:(full|partial)-list"/;

async function connectListClient(serverUrl: string, identity: Identity, auth: Record<string, unknown>): Promise<ListClient> {
  const [pki, leaf] = await Promise.all([testPki(), agentLeaf(identity.id)]);
  const token = await createAgentToken(identity.id, importPrivateKey(identity.privatePem));
  const socket: Socket = io(`${serverUrl}${AGENT_NAMESPACE}`, {
    auth: { token, ...auth },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ca: pki.caCert,
    cert: leaf.cert,
    key: leaf.key,
  });
  const events: Array<{ event: string; data: unknown[] }> = [];
  const frames: string[] = [];
  socket.onAny((event: string, ...data: unknown[]) => events.push({ event, data }));
  socket.io.on('open', () => socket.io.engine.on('data', (data: unknown) => frames.push(String(data))));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return {
    events,
    listBytes: () => frames.filter((frame) => LIST_PACKET.test(frame)).reduce((sum, frame) => sum + Buffer.byteLength(frame), 0),
    // an unknown event with an ack is answered with an error ack after whatever the connection handler wrote
    barrier: () => socket.timeout(10_000).emitWithAck('dmr:agents:barrier'),
    close: () => socket.close(),
  };
}

const AT = '2026-03-01T00:00:00.000Z';

function listOf(identities: readonly Identity[]): AgentInfo[] {
  return identities.map((i) => ({ id: i.id, name: i.id, authenticationCertificate: i.certificatePem, createdAt: AT, updatedAt: AT }));
}

function writeRegistry(registry: RegistryFile, identities: readonly Identity[]): string {
  const response = listOf(identities).map((agent) => ({
    id: agent.id,
    name: agent.name,
    authentication_certificate: agent.authenticationCertificate,
    created_at: agent.createdAt,
    updated_at: agent.updatedAt,
  }));
  registry.writeRaw(JSON.stringify({ response }));
  return agentListVersion(listOf(identities));
}

describe('versioned agent lists with deltas (reconnect storms)', () => {
  let rabbit: RabbitVhostInfo & { cleanup: () => Promise<void> };
  const started: Array<{ stop: () => Promise<void> | void }> = [];

  beforeAll(async () => {
    rabbit = await useRabbitVhost();
  });
  afterAll(async () => {
    await rabbit.cleanup();
  });
  afterEach(async () => {
    for (const component of started.splice(0).reverse()) await component.stop();
  });

  async function server(registry: RegistryFile): Promise<RunningServer> {
    // no cron sync during the test: each registry change is applied by an explicit sync, so the steps are ordered
    const running = await startServer(serverEnv(rabbit, registry.url, { CENTOPS_CONFIGURATION_CRON_TIME: '0 0 1 1 *' }));
    started.push({ stop: () => running.server.stop() });
    return running;
  }

  async function agent(identity: Identity, serverUrl: string, receiver: Receiver): Promise<RunningAgent> {
    const running = await startAgent(identity, serverUrl, receiver.url);
    started.push({ stop: () => running.agent.stop() });
    return running;
  }

  const listLines = (running: RunningAgent) =>
    running.logs.lines.filter((line) => line.msg === 'agent list applied').map((line) => ({ kind: line.kind, version: line.version }));
  const resyncs = (running: RunningAgent) => running.logs.lines.filter((line) => String(line.msg).startsWith('agent list out of step'));

  it('sends an up-to-date agent nothing, a stale one only the delta, a seed 003 agent the full list as data[0], on any instance', async () => {
    const [a, b, c, d, seed, ...fillers] = await Promise.all(Array.from({ length: 9 }, () => makeIdentity('ec')));
    if (!a || !b || !c || !d || !seed) throw new Error('identities');
    const registry = new RegistryFile([]);
    started.push({ stop: () => registry.remove() });
    const v1 = writeRegistry(registry, [a, b, c, seed, ...fillers]);
    const receiver = await new Receiver().start();
    started.push({ stop: () => receiver.close() });
    const s1 = await server(registry);
    const s2 = await server(registry);
    expect([s1.server.registry.listVersion, s2.server.registry.listVersion], 'instances sharing nothing agree on the version').toEqual([
      v1,
      v1,
    ]);
    const proxy = await new SwitchProxy().start();
    started.push({ stop: () => proxy.close() });
    proxy.route(s1.port);
    const agentA = await agent(a, proxy.url, receiver);
    await agent(b, s2.url, receiver);
    expect(listLines(agentA)).toEqual([{ kind: 'full', version: v1 }]);

    // a seed 003 agent (no feature) gets the whole list, alone, as data[0], exactly as before
    const legacy = await connectListClient(s1.url, seed, { features: [DELIVERY_DEADLINE_FEATURE] });
    await legacy.barrier();
    legacy.close();
    expect(legacy.events.map((event) => event.event)).toEqual(['dmr:agents:full-list']);
    const legacyArgument = legacy.events[0]?.data[0] as unknown[];
    expect(legacyArgument).toHaveLength(1);
    expect((legacyArgument[0] as AgentInfo[]).map((agent) => agent.id).sort()).toEqual([a, b, c, seed, ...fillers].map((i) => i.id).sort());
    expect(legacy.listBytes()).toBeGreaterThan(1000 * 7);

    // an up-to-date agent on another instance than the one its list came from: no list data at all
    const current = await connectListClient(s2.url, seed, { features: [AGENT_LIST_DELTA_FEATURE], agentListVersion: v1 });
    await current.barrier();
    current.close();
    expect(current.events.filter((event) => event.event.endsWith('-list'))).toEqual([]);
    expect(current.listBytes()).toBe(0);

    // the real agent fails over to the other instance holding the current list: it gets nothing and relays as before
    proxy.route(undefined);
    await waitUntil(() => !s1.server.gateway.connectedAgentIds().includes(a.id), 10_000, 'A cut off from s1');
    proxy.route(s2.port);
    await waitUntil(() => s2.server.gateway.connectedAgentIds().includes(a.id), 15_000, 'A reconnected to s2');
    await expectRelayed(agentA, b, receiver);
    expect(listLines(agentA), 'nothing sent on a reconnect with the current version').toEqual([{ kind: 'full', version: v1 }]);

    // while A is away, C leaves the registry and D joins; both instances load it (and keep v1 to serve deltas from)
    proxy.route(undefined);
    await waitUntil(() => !s2.server.gateway.connectedAgentIds().includes(a.id), 10_000, 'A cut off from s2');
    const v2 = writeRegistry(registry, [a, b, d, seed, ...fillers]);
    for (const running of [s1, s2]) expect(await running.server.registry.sync()).toBe('changed');
    expect([s1.server.registry.listVersion, s2.server.registry.listVersion]).toEqual([v2, v2]);
    await agent(d, s2.url, receiver);

    // a stale bare client: only the delta, naming the versions; its size is two entries, not the list's nine
    const stale = await connectListClient(s1.url, seed, { features: [AGENT_LIST_DELTA_FEATURE], agentListVersion: v1 });
    await stale.barrier();
    stale.close();
    expect(stale.events.map((event) => event.event)).toEqual(['dmr:agents:partial-list']);
    const [entries, meta] = (stale.events[0]?.data[0] ?? []) as [AgentInfo[], unknown];
    expect(meta).toEqual({ version: v2, baseVersion: v1 });
    expect(entries.map((entry) => [entry.id, entry.deleted === true]).sort()).toEqual(
      [
        [c.id, true],
        [d.id, false],
      ].sort(),
    );
    expect(stale.listBytes()).toBeLessThan(legacy.listBytes() / 3);

    // A comes back through s1 (not the instance it last talked to) with v1: it applies the delta, and only that
    proxy.route(s1.port);
    await waitUntil(() => s1.server.gateway.connectedAgentIds().includes(a.id), 15_000, 'A reconnected to s1');
    // the delta follows the connect on the same socket; a request between the two would still see the old list
    await waitUntil(() => listLines(agentA).length === 2, 10_000, 'A applied a second list');
    await expectRelayed(agentA, d, receiver);
    expect(listLines(agentA)).toEqual([
      { kind: 'full', version: v1 },
      { kind: 'partial', version: v2 },
    ]);
    const toRemoved = await postMessage(agentA.url, v1Body(c.id));
    expect(toRemoved.status).toBe(400);
    expect(toRemoved.body.code).toBe('DMR_VALIDATION_UNKNOWN_RECIPIENT');

    // and once more to s2, which never served A v2: nothing
    proxy.route(undefined);
    await waitUntil(() => !s1.server.gateway.connectedAgentIds().includes(a.id), 10_000, 'A cut off from s1');
    proxy.route(s2.port);
    await waitUntil(() => s2.server.gateway.connectedAgentIds().includes(a.id), 15_000, 'A reconnected to s2');
    await expectRelayed(agentA, d, receiver);
    expect(listLines(agentA)).toHaveLength(2);
    expect(resyncs(agentA)).toEqual([]);
  });

  it('pushes a live change to connected agents as a versioned delta, and seed 003 agents get [entries] alone', async () => {
    const [a, b, c, seed, ...fillers] = await Promise.all(Array.from({ length: 7 }, () => makeIdentity('ec')));
    if (!a || !b || !c || !seed) throw new Error('identities');
    const registry = new RegistryFile([]);
    started.push({ stop: () => registry.remove() });
    const v1 = writeRegistry(registry, [a, b, seed, ...fillers]);
    const receiver = await new Receiver().start();
    started.push({ stop: () => receiver.close() });
    const s1 = await server(registry);
    const agentA = await agent(a, s1.url, receiver);
    const legacy = await connectListClient(s1.url, seed, {});
    started.push({ stop: () => legacy.close() });
    await legacy.barrier();
    const v2 = writeRegistry(registry, [a, b, c, seed, ...fillers]);
    expect(await s1.server.registry.sync()).toBe('changed');
    await agent(c, s1.url, receiver);
    await expectRelayed(agentA, c, receiver);
    expect(listLines(agentA)).toEqual([
      { kind: 'full', version: v1 },
      { kind: 'partial', version: v2 },
    ]);
    await waitUntil(() => legacy.events.length === 2, 10_000, 'the seed 003 client got the change');
    expect(legacy.events[1]?.event).toBe('dmr:agents:partial-list');
    const argument = legacy.events[1]?.data[0] as unknown[];
    expect(argument).toHaveLength(1);
    expect((argument[0] as AgentInfo[]).map((entry) => entry.id)).toEqual([c.id]);
  });
});

async function expectRelayed(from: RunningAgent, to: Identity, receiver: Receiver): Promise<void> {
  const body = v1Body(to.id, `list-delta-${randomUUID()}`);
  const posted = await postMessage(from.url, body);
  expect(posted.status, JSON.stringify(posted.body)).toBe(202);
  await waitUntil(() => receiver.countOf(body.id) === 1, 15_000, `delivery to ${to.id}`);
}
