import type { Server as HttpServer } from 'node:http';
import {
  AGENT_NAMESPACE,
  type ClientToServerEvents,
  coalesceWrites,
  type DmrErrorCode,
  EVENTS,
  type Logger,
  type ServerToClientEvents,
  type WireMessageBody,
} from '@dmr/shared';
import type { PolicyCertificate } from '@dmr/shared/policy';
import { type Namespace, Server, type Socket } from 'socket.io';
import type { BrokerConnection } from '../amqp/index.js';
import { authenticateHandshake, type CertificateVerdict, type EngineLike, type TokenPolicy, TokenReplayGuard } from '../auth/index.js';
import type { GatewayConfig } from '../config/index.js';
import type { ServerMetrics } from '../obs/index.js';
import { type AgentRegistry, type ListChange, partialListOf, type RegistryDiff } from '../registry/index.js';
import type { MessageRouter } from '../routing/index.js';
import { AgentDelivery } from './agent-delivery.js';
import { ConnectionLimits, preAuthServerOptions } from './connection-limits.js';
import { announcesDeadlines } from './delivery-deadline.js';
import { ListPackets } from './list-packets.js';
import { listRequestOf } from './list-request.js';
import { answer, logFailure, splitEventArguments } from './socket-input.js';

type AgentSocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  { agentId: string; certificate: PolicyCertificate | null }
>;

/** Gateway dependencies. */
export interface GatewayDeps {
  readonly broker: BrokerConnection;
  readonly registry: AgentRegistry;
  readonly router: Pick<MessageRouter, 'route'>;
  readonly metrics: ServerMetrics;
  readonly log: Logger;
  readonly deliveryLimit: number;
  /** Message TTL, ms: how long a delivery may stay unanswered before it is dead-lettered. */
  readonly messageTtlMs: number;
  /** Present when this instance terminates mutual TLS: checks every engine.io request's client certificate, judges sessions. */
  readonly certificates?: {
    attach(engine: EngineLike): void;
    judgeSession(session: object): CertificateVerdict;
    /** The identity of the session's certificate, for the policy input (issue 19). */
    identityOf(session: object): PolicyCertificate | null;
  };
}

interface Session {
  readonly socket: AgentSocket;
  readonly delivery: AgentDelivery;
  readonly connectedAt: number;
}

/** Room of the sockets whose agents announced versioned lists (AGENT_LIST_DELTA_FEATURE). */
const VERSIONED_LIST_ROOM = 'dmr:versioned-list';

/** Extra room above the message limit for Socket.IO framing and the event name. */
const FRAME_OVERHEAD_BYTES = 16 * 1024;

/**
 * The Socket.IO gateway for agents: authenticates handshakes, binds each socket to one agent id,
 * routes that agent's messages, consumes its queue while connected, and keeps agents' lists current.
 */
export class SocketGateway {
  readonly #io: Server<ClientToServerEvents, ServerToClientEvents>;
  readonly #namespace: Namespace<ClientToServerEvents, ServerToClientEvents>;
  readonly #sessions = new Map<string, Session>();
  readonly #lists = new ListPackets();
  readonly #tokens: TokenPolicy;
  #isStopping = false;

  constructor(
    httpServer: HttpServer,
    private readonly deps: GatewayDeps,
    private readonly config: GatewayConfig,
  ) {
    // every Socket.IO packet is its own socket write; coalescing them per event-loop turn saves a syscall each
    httpServer.on('upgrade', (_request, socket) => coalesceWrites(socket));
    // token ids are remembered per instance (docs/security.md, "Handshake token binding")
    this.#tokens = { audience: config.clusterId, legacyAgentIds: new Set(config.legacyAgentIds), replayGuard: new TokenReplayGuard() };
    const frameBytes = config.maxMessageBytes + FRAME_OVERHEAD_BYTES;
    this.#io = new Server(httpServer, { ...preAuthServerOptions(config.limits, frameBytes), serveClient: false });
    this.#namespace = this.#io.of(AGENT_NAMESPACE);
    deps.certificates?.attach(this.#io.engine);
    // ConnectionLimits also closes the main namespace `/`, which Socket.IO always has and never authenticates
    const limits = new ConnectionLimits(this.#io, frameBytes, config.limits, deps);
    this.#namespace.use(
      limits.guard((socket, next) => {
        this.#authenticate(socket as AgentSocket, next).catch((error: unknown) => {
          logFailure(deps.log, 'handshake')(error);
          next(Object.assign(new Error('handshake could not be checked'), { data: { code: 'DMR_INTERNAL_ERROR' } }));
        });
      }),
    );
    this.#namespace.on('connection', (socket) => {
      this.#onConnection(socket as AgentSocket).catch(logFailure(deps.log, 'connection set-up', { agentId: socket.data.agentId }));
    });
    deps.registry.on('changed', (diff, versions) => this.#onRegistryChanged(diff, versions));
    deps.broker.on('connected', () => void this.#restartDeliveries());
  }

  /** Ids of agents connected to this instance. */
  connectedAgentIds(): string[] {
    return [...this.#sessions.keys()];
  }

  /** Refuses new handshakes from now on; existing sockets keep working until {@link SocketGateway.stop}. */
  stopIntake(): void {
    this.#isStopping = true;
  }

  /** Cancels consumers, drains in-flight deliveries (bounded), disconnects every agent and closes Socket.IO. */
  async stop(drainMs: number): Promise<void> {
    this.#isStopping = true;
    await Promise.all([...this.#sessions.values()].map((session) => session.delivery.stop(drainMs)));
    // not io.close(): that also closes the HTTP server, which fastify owns and closes last
    this.#io.disconnectSockets(true);
    this.#io.engine.close();
  }

  async #authenticate(socket: AgentSocket, next: (error?: Error) => void): Promise<void> {
    const result = await authenticateHandshake(socket.handshake.auth, {
      keyOf: (agentId) => this.deps.registry.keyOf(agentId),
      isDisabled: (agentId) => this.deps.registry.isDisabled(agentId),
      isAcceptingConnections: () => this.#availability(),
      tokens: this.#tokens,
    });
    const verdict = result.ok ? this.#judgeCertificate(socket, result.agentId) : result;
    if (!verdict.ok) {
      this.deps.metrics.socketErrorsTotal.inc({ code: verdict.code });
      this.deps.log.warn({ code: verdict.code, reason: verdict.reason, address: socket.handshake.address }, 'agent handshake refused');
      next(Object.assign(new Error(verdict.reason), { data: { code: verdict.code } }));
      return;
    }
    socket.data.agentId = verdict.agentId;
    socket.data.certificate = this.deps.certificates?.identityOf(socket.conn) ?? null;
    next();
  }

  /** With mutual TLS, the certificate's agent identity must be the token's, and the certificate still good. */
  #judgeCertificate(socket: AgentSocket, tokenAgentId: string): CertificateVerdict {
    if (!this.deps.certificates) return { ok: true, agentId: tokenAgentId };
    const verdict = this.deps.certificates.judgeSession(socket.conn);
    if (verdict.ok && verdict.agentId !== tokenAgentId) {
      return {
        ok: false,
        code: 'DMR_AUTH_CERTIFICATE_MISMATCH',
        reason: `certificate is for agent ${verdict.agentId}, token for ${tokenAgentId}`,
      };
    }
    return verdict;
  }

  /** Re-judges every live connection's certificate (after a CRL change, and periodically for expiry) and cuts off the failures. */
  recheckCertificates(): void {
    if (!this.deps.certificates) return;
    for (const [agentId, session] of this.#sessions) {
      const verdict = this.deps.certificates.judgeSession(session.socket.conn);
      if (verdict.ok) continue;
      this.deps.metrics.socketErrorsTotal.inc({ code: verdict.code });
      this.deps.log.warn({ agentId, code: verdict.code, reason: verdict.reason }, 'dropping live agent connection');
      void this.#endSession(agentId, session, verdict.code);
    }
  }

  #availability(): { ok: true } | { ok: false; code: DmrErrorCode; reason: string } {
    if (this.#isStopping) return { ok: false, code: 'DMR_LIFECYCLE_SHUTTING_DOWN', reason: 'server is shutting down' };
    if (!this.deps.broker.isConnected) return { ok: false, code: 'DMR_ROUTE_BROKER_UNAVAILABLE', reason: 'RabbitMQ is not connected' };
    if (!this.deps.registry.isLoaded) return { ok: false, code: 'DMR_REGISTRY_FETCH_FAILED', reason: 'agent registry not loaded' };
    return { ok: true };
  }

  async #onConnection(socket: AgentSocket): Promise<void> {
    const agentId = socket.data.agentId;
    const log = this.deps.log.child({ agentId, socketId: socket.id });
    const delivery = new AgentDelivery(
      agentId,
      (message) => this.#emitDelivery(socket, message),
      this.deps,
      {
        prefetch: this.config.prefetch,
        deliveryLimit: this.deps.deliveryLimit,
        redeliveryDelayMs: this.config.redeliveryDelayMs,
        redeliveryDelayMaxMs: this.config.redeliveryDelayMaxMs,
        messageTtlMs: this.deps.messageTtlMs,
        ...(announcesDeadlines(socket.handshake.auth) ? { deadlineGraceMs: this.config.deliveryAckTimeoutMs } : {}),
      },
      // a consumer RabbitMQ cancelled or closed leaves the socket deaf: end the session, the agent reconnects to a fresh one
      () => void this.#endSession(agentId, session, 'consumer-lost'),
    );
    const session: Session = { socket, delivery, connectedAt: Date.now() };
    // one live socket per agent per instance: the newest wins, so a reconnect never leaves a stale consumer behind
    const previous = this.#sessions.get(agentId);
    this.#sessions.set(agentId, session);
    this.deps.metrics.socketConnectionsTotal.inc();
    this.deps.metrics.socketConnectionsActive.inc();
    // every event and argument is agent input: only the one event the protocol has reaches a handler (issue 15)
    socket.use((event, next) => this.#filterEvent(socket, event, next));
    socket.on('error', (error) => log.warn({ err: error }, 'socket error'));
    socket.on(EVENTS.messageToServer, (...args: unknown[]) => this.#onMessage(socket, args));
    socket.on('disconnect', (reason) => {
      this.#onDisconnect(agentId, session, reason).catch(logFailure(log, 'disconnect'));
    });
    this.#emitAgentList(socket);
    if (previous) {
      log.warn('agent reconnected while an older socket was open; closing the older one');
      await this.#closeSession(agentId, previous, 'replaced');
    }
    try {
      if (await delivery.start()) log.info('agent connected');
    } catch (error) {
      log.error({ err: error }, 'could not start consuming for agent; disconnecting it so it retries');
      socket.disconnect(true);
    }
  }

  #onMessage(socket: AgentSocket, args: readonly unknown[]): void {
    this.deps.metrics.socketEventsReceivedTotal.inc({ event: EVENTS.messageToServer, namespace: AGENT_NAMESPACE });
    const { message, ack } = splitEventArguments(args);
    const log = this.deps.log;
    if (!ack) {
      log.warn({ agentId: socket.data.agentId }, 'message without ack callback ignored: the sender could not learn its fate');
      return;
    }
    if (this.#isStopping) {
      answer(ack, { status: 'error', error: 'DMR_LIFECYCLE_SHUTTING_DOWN', reason: 'server is shutting down' }, log);
      return;
    }
    // route() never rejects; the catch is the handler's own guarantee that no input escapes it
    this.deps.router.route(message, socket.data.agentId, socket.data.certificate).then(
      (reply) => answer(ack, reply, log),
      (error: unknown) => {
        logFailure(log, 'routing', { agentId: socket.data.agentId })(error);
        answer(ack, { status: 'error', error: 'DMR_INTERNAL_ERROR', reason: 'the server failed to process the message' }, log);
      },
    );
  }

  /** Socket middleware: events other than the protocol's are counted as `unknown`, answered with an error ack if they asked for one, and dropped. */
  #filterEvent(socket: AgentSocket, event: unknown[], next: (error?: Error) => void): void {
    if (event[0] === EVENTS.messageToServer) {
      next();
      return;
    }
    this.deps.metrics.socketEventsReceivedTotal.inc({ event: 'unknown', namespace: AGENT_NAMESPACE });
    this.deps.log.warn({ agentId: socket.data.agentId }, 'unknown event from agent ignored');
    const { ack } = splitEventArguments(event.slice(1));
    if (ack) answer(ack, { status: 'error', error: 'DMR_VALIDATION_FAILED', reason: 'unknown event' }, this.deps.log);
  }

  #emitDelivery(socket: AgentSocket, message: WireMessageBody) {
    this.deps.metrics.socketEventsSentTotal.inc({ event: EVENTS.messageFromServer, namespace: AGENT_NAMESPACE });
    return socket.timeout(this.config.deliveryAckTimeoutMs).emitWithAck(EVENTS.messageFromServer, message);
  }

  /**
   * The list on connect: seed 003's `[agents]` full list to an agent that did not announce versioned lists; to one
   * that did, nothing when it holds the current version, else a delta from its version or the versioned full list.
   */
  #emitAgentList(socket: AgentSocket): void {
    const request = listRequestOf(socket.handshake.auth);
    if (!request.isVersioned) {
      this.#writeList(socket, EVENTS.fullList, this.#lists.legacyFull(this.deps.registry.agentInfos()));
      return;
    }
    // the in-memory adapter joins synchronously, so no registry change can slip between the plan and the room
    void socket.join(VERSIONED_LIST_ROOM);
    const plan = this.deps.registry.listPlan(request.version);
    const packet = plan ? this.#lists.forPlan(plan) : undefined;
    if (plan && packet !== undefined) this.#writeList(socket, plan.kind === 'full' ? EVENTS.fullList : EVENTS.partialList, packet);
  }

  #writeList(socket: AgentSocket, event: string, packet: string): void {
    // the same text packet socket.emit would write, encoded once per list version (see ListPackets)
    if (socket.conn.readyState === 'open') socket.conn.write(packet);
    this.deps.metrics.socketEventsSentTotal.inc({ event, namespace: AGENT_NAMESPACE });
  }

  async #onDisconnect(agentId: string, session: Session, reason: string): Promise<void> {
    this.deps.metrics.socketDisconnectionsTotal.inc({ reason });
    this.deps.log.info({ agentId, reason }, 'agent disconnected');
    if (this.#sessions.get(agentId) === session) await this.#endSession(agentId, session, reason);
  }

  async #endSession(agentId: string, session: Session, reason: string): Promise<void> {
    if (this.#sessions.get(agentId) !== session) return;
    this.#sessions.delete(agentId);
    await this.#closeSession(agentId, session, reason);
  }

  async #closeSession(agentId: string, session: Session, reason: string): Promise<void> {
    this.deps.metrics.socketConnectionsActive.dec();
    this.deps.metrics.socketConnectionDuration.observe((Date.now() - session.connectedAt) / 1000);
    // a dead socket cannot ack, so do not wait: closing the channel requeues its unacked deliveries
    await session.delivery.stop(0);
    if (session.socket.connected) {
      this.deps.log.info({ agentId, reason }, 'disconnecting agent');
      session.socket.disconnect(true);
    }
  }

  #onRegistryChanged(diff: RegistryDiff, versions: ListChange): void {
    const entries = partialListOf(diff, (agentId) => this.deps.registry.isDisabled(agentId));
    if (entries.length > 0) {
      // seed 003's agents get `[entries]`; versioned ones also learn the versions it leads from and to, and check them
      const { version, baseVersion } = versions;
      const meta = baseVersion === undefined ? { version } : { version, baseVersion };
      this.#namespace.except(VERSIONED_LIST_ROOM).emit(EVENTS.partialList, [entries]);
      this.#namespace.to(VERSIONED_LIST_ROOM).emit(EVENTS.partialList, [entries, meta]);
      this.deps.metrics.socketEventsSentTotal.inc({ event: EVENTS.partialList, namespace: AGENT_NAMESPACE }, this.#sessions.size);
    }
    // removed (or disabled) agents lose their right to be here, re-keyed ones must prove the new key: both are cut at once
    for (const agent of [...diff.removed, ...diff.rekeyed.map((entry) => entry.info)]) {
      const session = this.#sessions.get(agent.id);
      if (!session) continue;
      const isDisabled = this.deps.registry.isDisabled(agent.id);
      if (isDisabled)
        this.deps.log.warn({ agentId: agent.id, code: 'DMR_AUTH_AGENT_DISABLED' }, 'dropping live connection of a disabled agent');
      void this.#endSession(agent.id, session, isDisabled ? 'agent-disabled' : 'registry-change');
    }
  }

  async #restartDeliveries(): Promise<void> {
    for (const [agentId, session] of this.#sessions) {
      try {
        await session.delivery.start();
      } catch (error) {
        this.deps.log.error({ err: error, agentId }, 'could not resume consuming after RabbitMQ reconnect; disconnecting agent');
        session.socket.disconnect(true);
      }
    }
  }
}
