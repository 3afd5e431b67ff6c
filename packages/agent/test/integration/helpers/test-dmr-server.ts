/**
 * A STAND-IN for dmr-server, NOT the real server: a real socket.io 4 server on 127.0.0.1, port 0, namespace
 * `/v1/dmr-agent-events`. It verifies each handshake token with the shared `verifyAgentToken`, sends
 * the full agent list on connect, records what agents emit and acks it as a test tells it to, and can
 * deliver messages to a connected agent. It has no RabbitMQ: it only plays the protocol.
 *
 * Agents are listed with certificates from the tests' DMR CA (helpers/peer-ca.ts). Because it sends whatever
 * a test tells it to, it also plays the MALICIOUS RELAY of the key-trust tests (a real dmr-server cannot be made
 * to lie): `sendFullList`/`sendPartialList` with swapped keys, and `deliver` of forged messages.
 *
 * Use it only for server behaviours the real dmr-server cannot be made to produce on cue: a malicious relay, a
 * server that holds or never sends its ack or answers a chosen error, refuses handshakes or kicks agents off at a
 * chosen moment, forwards what a real server would refuse, or whose raw packets a test must read. A test or
 * describe block using it says so in its name ("against a stand-in server (TestDmrServer): ..."). Any claim that
 * reads end to end (a relay delivers once, failover between servers, nothing accepted is lost) runs against the
 * real server (buildServer from @dmr/server) and a real RabbitMQ instead: see test/support/dmr-system.ts and
 * relay.test.ts, link-failover.test.ts, backpressure.test.ts (issue 21).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AGENT_NAMESPACE,
  type AgentInfo,
  type DeliveryAck,
  EVENTS,
  PublicKeyRing,
  type SendAck,
  verifyAgentToken,
  type WireMessage,
} from '@dmr/shared';
import { Server, type Socket } from 'socket.io';
import { agentCertificate } from '../../helpers/peer-ca.js';

/** One handshake the peer saw. */
export interface Handshake {
  readonly token: unknown;
  /** The handshake's whole `auth` object (features, list version …). */
  readonly auth: Record<string, unknown>;
  readonly agentId: string | undefined;
  readonly outcome: 'accepted' | 'refused-by-test' | 'invalid-token';
}

/** How the peer answers `message-to-dmr-server`: an ack, or `undefined` to never answer. */
export type AckPolicy = (message: WireMessage) => SendAck | undefined | Promise<SendAck | undefined>;

/** A running test peer. */
export class TestDmrServer {
  readonly handshakes: Handshake[] = [];
  readonly received: WireMessage[] = [];
  readonly #agents = new Map<string, AgentInfo>();
  readonly #ring = new PublicKeyRing();
  readonly #io: Server;
  readonly #httpServer: ReturnType<typeof createServer>;
  #refusals = 0;
  /** Answer to each message from an agent; default: ok. */
  ackPolicy: AckPolicy = () => ({ status: 'ok' });
  /** The argument of the full list sent on connect, given the registry's agents and the handshake `auth`; default `[agents]`. */
  connectList: (agents: AgentInfo[], auth: Record<string, unknown>) => unknown[] = (agents) => [agents];

  private constructor() {
    this.#httpServer = createServer();
    this.#io = new Server(this.#httpServer, { transports: ['websocket'] });
    const nsp = this.#io.of(AGENT_NAMESPACE);
    nsp.use((socket, next) => {
      this.#authenticate(socket).then(
        () => next(),
        (error: Error) => next(error),
      );
    });
    nsp.on('connection', (socket) => this.#onConnection(socket));
  }

  /** Starts a peer on 127.0.0.1 and a free port. */
  static async start(agents: readonly { id: string; publicPem: string }[] = []): Promise<TestDmrServer> {
    const server = new TestDmrServer();
    for (const agent of agents) await server.putAgent(agent.id, agent.publicPem);
    await new Promise<void>((resolve) => server.#httpServer.listen(0, '127.0.0.1', resolve));
    return server;
  }

  /** Base URL agents use as DMR_SERVER_WEBSOCKET_URL. */
  get url(): string {
    const { port } = this.#httpServer.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /**
   * Adds or replaces an agent in the registry (the next full list carries it); its `authenticationCertificate` is a
   * certificate from the tests' DMR CA for `publicPem`, or `certificate` verbatim when given.
   */
  async putAgent(id: string, publicPem: string, certificate?: string): Promise<void> {
    certificate ??= await agentCertificate(id, publicPem);
    const now = new Date().toISOString();
    this.#agents.set(id, { id, name: `agent ${id}`, authenticationCertificate: certificate, createdAt: now, updatedAt: now });
    this.#ring.set(id, publicPem);
  }

  /** Refuses the next `count` handshakes in the middleware (as a server does for a bad token). */
  refuseNext(count: number): void {
    this.#refusals = count;
  }

  /** Sockets of connected agents. */
  socketsOf(agentId: string): Socket[] {
    return [...this.#io.of(AGENT_NAMESPACE).sockets.values()].filter((socket) => socket.data.agentId === agentId);
  }

  /** Emits `message-from-dmr-server` to the agent and waits for its ack. */
  async deliver(agentId: string, message: unknown, timeoutMs = 10_000): Promise<DeliveryAck> {
    const socket = this.socketsOf(agentId)[0];
    if (!socket) throw new Error(`agent ${agentId} is not connected`);
    return socket.timeout(timeoutMs).emitWithAck(EVENTS.messageFromServer, message);
  }

  /** Emits a partial list to every connected agent. */
  sendPartialList(entries: readonly AgentInfo[]): void {
    this.#io.of(AGENT_NAMESPACE).emit(EVENTS.partialList, [entries]);
  }

  /** Emits a full list built from `entries` (or the registry) to every connected agent. */
  sendFullList(entries: readonly AgentInfo[] = [...this.#agents.values()]): void {
    this.#io.of(AGENT_NAMESPACE).emit(EVENTS.fullList, [entries]);
  }

  /** Emits `event` with exactly `argument` to every connected agent (lists of any shape, versioned or not). */
  sendListEvent(event: typeof EVENTS.fullList | typeof EVENTS.partialList, argument: unknown[]): void {
    this.#io.of(AGENT_NAMESPACE).emit(event, argument as never);
  }

  /** The registry's agents as listed now. */
  agents(): AgentInfo[] {
    return [...this.#agents.values()];
  }

  /** Kicks every agent off (`io server disconnect`, which socket.io-client never retries by itself). */
  disconnectAll(): void {
    this.#io.of(AGENT_NAMESPACE).disconnectSockets(true);
  }

  /** Closes every connection and the port. */
  async close(): Promise<void> {
    this.#io.of(AGENT_NAMESPACE).disconnectSockets(true);
    await this.#io.close();
    this.#httpServer.closeAllConnections();
  }

  async #authenticate(socket: Socket): Promise<void> {
    const auth = socket.handshake.auth as Record<string, unknown>;
    const token: unknown = auth.token;
    if (this.#refusals > 0) {
      this.#refusals -= 1;
      this.handshakes.push({ token, auth, agentId: undefined, outcome: 'refused-by-test' });
      throw Object.assign(new Error('refused by the test peer'), { data: { code: 'DMR_AUTH_TOKEN_INVALID' } });
    }
    const verified = await verifyAgentToken(token, (id) => this.#ring.get(id));
    if (!verified.ok) {
      this.handshakes.push({ token, auth, agentId: undefined, outcome: 'invalid-token' });
      throw Object.assign(new Error(verified.code), { data: { code: verified.code, errors: verified.errors } });
    }
    this.handshakes.push({ token, auth, agentId: verified.value.agentId, outcome: 'accepted' });
    socket.data.agentId = verified.value.agentId;
  }

  #onConnection(socket: Socket): void {
    socket.on(EVENTS.messageToServer, (message: WireMessage, ack: (reply: SendAck) => void) => {
      this.received.push(message);
      Promise.resolve(this.ackPolicy(message)).then(
        (reply) => {
          if (reply !== undefined) ack(reply);
        },
        () => undefined,
      );
    });
    socket.emit(EVENTS.fullList, this.connectList([...this.#agents.values()], socket.handshake.auth) as never);
  }
}
