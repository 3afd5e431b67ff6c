import {
  AGENT_LIST_DELTA_FEATURE,
  AGENT_LIST_VERSION_FIELD,
  AGENT_NAMESPACE,
  backoffDelayMs,
  type ClientToServerEvents,
  coalesceWrites,
  createAgentToken,
  DELIVERY_DEADLINE_FEATURE,
  type DeliveryAck,
  DmrError,
  deliveryErrorOf,
  EVENTS,
  type Logger,
  type PrivateKeyRef,
  type ServerToClientEvents,
  type WireMessage,
} from '@dmr/shared';
import { io, type Socket } from 'socket.io-client';
import type { LinkConfig, LinkTlsOptions } from '../config/index.js';
import type { AgentDirectory, DirectoryUpdate } from './agent-directory.js';
import { AgentListState } from './agent-list-state.js';
import { connectFailureCode } from './connect-failure.js';
import { SendGate, SWITCH_CONNECT_TIMEOUT_MS } from './send-gate.js';
import { interpretSendAck, type SendOutcome } from './send-outcome.js';
import { describeCause, idOf, streamUnder } from './socket-details.js';

/** Connection state, fed to `/v1/ready` and the metrics. `closed` is final (after stop). */
export type LinkState = 'disconnected' | 'connecting' | 'connected' | 'closed';

/** Port for the link's metrics (implemented by `AgentMetrics`). */
export interface LinkObserver {
  linkConnected(): void;
  linkDisconnected(durationS: number): void;
  linkError(): void;
  eventReceived(event: string): void;
  eventSent(event: string): void;
}

/** Handles one inbound wire message and returns the ack for the server. Must not throw; the link guards anyway. */
export type InboundHandler = (message: unknown) => Promise<DeliveryAck>;

/** What the link needs from the rest of the agent. */
export interface LinkDeps {
  readonly agentId: string;
  readonly privateKey: PrivateKeyRef;
  readonly directory: AgentDirectory;
  readonly onMessage: InboundHandler;
  readonly observer: LinkObserver;
  readonly log: Logger;
  /** Jitter source for the reconnect backoff (tests pin it). */
  readonly random?: () => number;
}

type AgentSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
const KNOWN_EVENTS = new Set<string>(Object.values(EVENTS));

/**
 * The agent's one Socket.IO connection to a DMR server (namespace `/v1/dmr-agent-events`).
 *
 * socket.io-client's own reconnection is off and this class owns the only reconnect loop: the built-in one never
 * retries after the server's middleware refuses the handshake (`connect_error` with `socket.active === false`) nor
 * after `io server disconnect`, so a second loop would be needed anyway; one loop with one backoff and one cancellable
 * timer is easier to reason about and to stop. The `auth` option is a function, so every (re)connect carries a freshly
 * signed token.
 *
 * Several server URLs (a comma list in `DMR_SERVER_WEBSOCKET_URL`) are tried round-robin: a failed connect or a lost
 * connection moves to the next one, with the same backoff. Every connection attempt gets its own socket and Manager:
 * socket.io-client writes an ack on whatever connection its Manager has *now*, and a server numbers its acks from 0
 * per process, so an ack of a delivery from a previous connection could otherwise settle a different delivery of the
 * new one (a restarted server reuses the ids).
 */
export class AgentLink {
  readonly #config: LinkConfig;
  readonly #deps: LinkDeps;
  readonly #log: Logger;
  #socket: AgentSocket | undefined;
  #state: LinkState = 'disconnected';
  #hasAgentList = false;
  // the list held and its version, kept across connections: a reconnect announces it and gets nothing or a delta
  readonly #lists = new AgentListState();
  // the version announced in the current connection's handshake
  #announcedVersion: string | undefined;
  #attempt = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #connectedAt = 0;
  #isStarted = false;
  // index into serverUrls of the next connection attempt
  #urlIndex = 0;
  // TLS material of every new connection; replaced by switchTls()
  #tls: LinkTlsOptions | undefined;
  // the connection being opened with new TLS material while the current one still serves, and how to give it up
  #candidate: AgentSocket | undefined;
  #abandonCandidate: ((reason: string) => void) | undefined;
  readonly #gate = new SendGate();

  constructor(config: LinkConfig, deps: LinkDeps) {
    this.#config = config;
    this.#deps = deps;
    this.#log = deps.log;
    this.#tls = config.tls;
  }

  /** Current connection state. */
  get state(): LinkState {
    return this.#state;
  }

  /**
   * True once the current connection has delivered a full agent list, or from the connect on when the handshake
   * announced the version held (the server sends a delta only when that version is behind, nothing otherwise).
   */
  get hasAgentList(): boolean {
    return this.#hasAgentList;
  }

  /** Opens the connection; retries forever with capped exponential backoff until {@link stop}. Idempotent. */
  start(): void {
    if (this.#isStarted || this.#state === 'closed') return;
    this.#isStarted = true;
    this.#connect();
  }

  /** The server URL the current (or next) connection attempt uses. */
  get serverUrl(): string {
    const urls = this.#config.serverUrls;
    return urls[this.#urlIndex % urls.length] as string;
  }

  /**
   * Emits `message` and waits up to `ackTimeoutMs` for the server's ack, which the server sends only
   * after RabbitMQ confirmed the publish. Never throws. Codes: DMR_LINK_NOT_CONNECTED, DMR_LINK_REJECTED, DMR_LINK_TIMEOUT.
   */
  async send(message: WireMessage): Promise<SendOutcome> {
    // during a move to a new certificate, wait for it: a send on the connection about to close could lose its ack
    if (this.#gate.isHeld) await this.#gate.whenOpen();
    const socket = this.#socket;
    if (!socket || this.#state !== 'connected' || !socket.connected) {
      return { ok: false, code: 'DMR_LINK_NOT_CONNECTED', message: 'the agent has no live connection to a DMR server' };
    }
    this.#deps.observer.eventSent(EVENTS.messageToServer);
    const answered = this.#gate.enter();
    try {
      const ack: unknown = await socket.timeout(this.#config.ackTimeoutMs).emitWithAck(EVENTS.messageToServer, message);
      return interpretSendAck(ack);
    } catch {
      // socket.io fails pending acks at once on disconnect; a still-connected socket means the ack timed out.
      if (!socket.connected) {
        return { ok: false, code: 'DMR_LINK_NOT_CONNECTED', message: 'the connection to the DMR server was lost before it confirmed' };
      }
      return { ok: false, code: 'DMR_LINK_TIMEOUT', message: `the DMR server did not confirm within ${this.#config.ackTimeoutMs} ms` };
    } finally {
      answered();
    }
  }

  /**
   * Puts new TLS material (a renewed or rotated client certificate, issue 18) in force without losing a message. Not
   * connected: the next connection uses it. Connected: new sends wait, the sends in flight get their acks (at most
   * `ackTimeoutMs`), a second connection with the new material opens while the first still serves; once it is up it
   * takes over and the first closes (the server, too, keeps an agent's newest socket). Deliveries the first had not
   * acked come again from RabbitMQ on the new one (the duplicate window posts each once). Rejects with
   * DMR_LINK_NOT_CONNECTED when the new connection is refused or not up within {@link SWITCH_CONNECT_TIMEOUT_MS}: the
   * old material and connection then stay.
   */
  async switchTls(tls: LinkTlsOptions): Promise<void> {
    const previous = this.#tls;
    this.#tls = tls;
    const current = this.#socket;
    if (this.#state !== 'connected' || !current?.connected) return;
    if (this.#gate.isHeld) throw new DmrError('DMR_INTERNAL_ERROR', 'a certificate switch is already in progress');
    this.#gate.hold();
    try {
      await this.#gate.settled(this.#config.ackTimeoutMs);
      await this.#connectCandidate(current);
    } catch (error) {
      this.#tls = previous;
      throw error;
    } finally {
      this.#gate.release();
    }
  }

  /** Cancels any pending reconnect and closes the connection. Idempotent; the link cannot be restarted. */
  async stop(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#abandonCandidate?.('the link is stopping');
    // disconnect() emits 'disconnect' synchronously when connected, which records the session metrics.
    if (this.#socket) this.#dispose(this.#socket);
    this.#hasAgentList = false;
  }

  /** A fresh socket (and Manager) for one connection attempt to `serverUrl`. */
  #open(serverUrl: string): AgentSocket {
    const socket: AgentSocket = io(new URL(AGENT_NAMESPACE, serverUrl).toString(), {
      forceNew: true, // a Manager per connection: never shared with another agent nor with an earlier connection
      autoConnect: false,
      reconnection: false, // this class owns the reconnect loop (see the class comment)
      transports: ['websocket'],
      auth: (cb) => this.#authenticate(cb),
      ...this.#tls,
    });
    socket.on('connect', () => this.#onConnect(socket));
    socket.on('connect_error', (error) => this.#onConnectError(socket, error));
    socket.on('disconnect', (reason) => this.#onDisconnect(socket, reason));
    socket.onAny((event: string) => this.#deps.observer.eventReceived(KNOWN_EVENTS.has(event) ? event : 'unknown'));
    socket.on(EVENTS.fullList, (data) => this.#onAgentList(socket, 'full', data));
    socket.on(EVENTS.partialList, (data) => this.#onAgentList(socket, 'partial', data));
    socket.on(EVENTS.messageFromServer, (message, ack) => {
      void this.#onMessage(socket, message, ack);
    });
    return socket;
  }

  /** Closes a socket for good; anything it still has to say (late acks) goes nowhere. */
  #dispose(socket: AgentSocket): void {
    socket.disconnect();
    socket.removeAllListeners();
    socket.offAny();
    if (this.#socket === socket) this.#socket = undefined;
    if (this.#candidate === socket) this.#candidate = undefined;
  }

  /** Opens the connection with the new material; resolves once it is the link's connection. */
  #connectCandidate(current: AgentSocket): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const candidate = this.#open(this.serverUrl);
      this.#candidate = candidate;
      const fail = (reason: string): void => {
        clearTimeout(timer);
        this.#abandonCandidate = undefined;
        if (this.#candidate === candidate) this.#dispose(candidate);
        // the old connection may have been closed meanwhile (by the server): the reconnect loop takes over
        if (this.#state !== 'closed' && !this.#socket?.connected) this.#scheduleReconnect();
        reject(new DmrError('DMR_LINK_NOT_CONNECTED', `the connection with the new client certificate failed: ${reason}`));
      };
      const timer = setTimeout(() => fail(`not connected within ${SWITCH_CONNECT_TIMEOUT_MS} ms`), SWITCH_CONNECT_TIMEOUT_MS);
      this.#abandonCandidate = fail;
      candidate.once('connect_error', (error) => fail(error.message));
      candidate.once('connect', () => {
        clearTimeout(timer);
        this.#abandonCandidate = undefined;
        this.#promote(candidate, current);
        resolve();
      });
      candidate.connect();
    });
  }

  /** The new connection takes over; the old one is closed (its unacked deliveries come again on the new one). */
  #promote(candidate: AgentSocket, old: AgentSocket): void {
    this.#candidate = undefined;
    if (this.#connectedAt > 0) this.#deps.observer.linkDisconnected((performance.now() - this.#connectedAt) / 1000);
    this.#socket = candidate;
    this.#onConnect(candidate);
    this.#dispose(old);
    this.#log.info({ serverUrl: this.serverUrl }, 'moved to a new connection with the new client certificate');
  }

  #authenticate(cb: (data: object) => void): void {
    createAgentToken(this.#deps.agentId, this.#deps.privateKey, { audience: this.#config.clusterId }).then(
      (token) => {
        // features: this agent enforces the delivery deadlines the server sends, and takes versioned lists (announcing
        // the version it holds); seed 003 servers ignore both keys
        const version = this.#lists.version;
        this.#announcedVersion = version;
        const features = [DELIVERY_DEADLINE_FEATURE, AGENT_LIST_DELTA_FEATURE];
        cb({ token, features, ...(version === undefined ? {} : { [AGENT_LIST_VERSION_FIELD]: version }) });
      },
      (error: unknown) => {
        // Without a token the server refuses the handshake, which lands in the retry loop like any refusal.
        this.#log.error({ err: error }, 'cannot sign the handshake token');
        cb({});
      },
    );
  }

  #connect(): void {
    if (this.#state === 'closed') return;
    this.#state = 'connecting';
    this.#socket = this.#open(this.serverUrl);
    this.#socket.connect();
  }

  #onConnect(socket: AgentSocket): void {
    if (socket !== this.#socket) return;
    this.#state = 'connected';
    this.#attempt = 0;
    this.#hasAgentList = this.#announcedVersion !== undefined;
    this.#connectedAt = performance.now();
    const stream = streamUnder(socket);
    if (stream) coalesceWrites(stream);
    this.#deps.observer.linkConnected();
    this.#log.info({ serverUrl: this.serverUrl }, 'connected to the DMR server');
  }

  #onConnectError(socket: AgentSocket, error: Error & { data?: unknown; description?: unknown }): void {
    if (socket !== this.#socket || this.#state === 'closed') return;
    this.#state = 'disconnected';
    this.#deps.observer.linkError();
    // A refusal by the server's middleware carries its reason in `data`; a transport error only says "websocket error"
    // and keeps the socket-level cause (ECONNREFUSED, TLS failure …) in `description`.
    const detail = describeCause(error.description);
    const code = connectFailureCode(error);
    const fields = { serverUrl: this.serverUrl, code, reason: error.message, detail, data: error.data, attempt: this.#attempt };
    this.#log.warn(fields, 'connection to the DMR server failed');
    this.#dispose(socket);
    this.#nextServer();
    this.#scheduleReconnect();
  }

  #onDisconnect(socket: AgentSocket, reason: string): void {
    if (socket !== this.#socket) return;
    if (this.#connectedAt > 0) this.#deps.observer.linkDisconnected((performance.now() - this.#connectedAt) / 1000);
    this.#connectedAt = 0;
    this.#hasAgentList = false;
    if (this.#state === 'closed') return;
    if (this.#candidate) {
      // closed while its successor connects (the server saw the new socket first): that one is the reconnect
      this.#state = 'connecting';
      this.#dispose(socket);
      return;
    }
    this.#state = 'disconnected';
    this.#log.warn({ serverUrl: this.serverUrl, reason }, 'disconnected from the DMR server');
    this.#dispose(socket);
    this.#nextServer();
    this.#scheduleReconnect();
  }

  /** Round-robin over the configured servers: the one that just failed is tried again last. */
  #nextServer(): void {
    this.#urlIndex = (this.#urlIndex + 1) % this.#config.serverUrls.length;
  }

  #scheduleReconnect(): void {
    if (this.#state === 'closed' || this.#retryTimer) return;
    const settings = { initialDelayMs: this.#config.reconnectDelayMs, maxDelayMs: this.#config.reconnectDelayMaxMs };
    const delayMs = backoffDelayMs(this.#attempt, settings, this.#deps.random);
    this.#attempt += 1;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#connect();
    }, delayMs);
  }

  #onAgentList(socket: AgentSocket, kind: 'full' | 'partial', data: unknown): void {
    if (socket !== this.#socket) return;
    const outcome = kind === 'full' ? this.#lists.applyFull(data) : this.#lists.applyPartial(data);
    if (outcome.action === 'ignore') {
      this.#log.warn({ kind, reason: outcome.reason }, 'ignored an agent list');
      return;
    }
    if (outcome.action === 'resync') {
      // reconnecting without a version brings the full list: the one answer that is right whatever went wrong
      this.#log.warn({ kind, reason: outcome.reason }, 'agent list out of step with the server; reconnecting for the full list');
      this.#lists.forget();
      socket.disconnect();
      return;
    }
    const { directory } = this.#deps;
    const update =
      outcome.kind === 'full' ? directory.replaceAll(outcome.agents, outcome.disabled) : directory.applyPartial(outcome.agents);
    if (outcome.kind === 'full') this.#hasAgentList = true;
    this.#logUpdate(kind, update);
  }

  #logUpdate(kind: 'full' | 'partial', update: DirectoryUpdate): void {
    for (const skipped of update.skipped) {
      this.#log.warn({ agentId: skipped.id, reason: skipped.reason }, 'skipped an agent whose key cannot be used');
    }
    const fields = { kind, applied: update.applied, removed: update.removed, skipped: update.skipped.length, version: this.#lists.version };
    this.#log.info(fields, 'agent list applied');
  }

  async #onMessage(socket: AgentSocket, message: unknown, ack: unknown): Promise<void> {
    let reply: DeliveryAck;
    try {
      reply = await this.#deps.onMessage(message);
    } catch (error) {
      this.#log.error({ err: error }, 'inbound handler failed');
      reply = { status: 'error', errors: [deliveryErrorOf('DMR_INTERNAL_ERROR', 'the agent failed to process the message')] };
    }
    if (typeof ack !== 'function') {
      this.#log.warn('the DMR server sent a message without an ack callback');
      return;
    }
    // The delivery belongs to the connection it came on: once that is gone, RabbitMQ has the message back and
    // redelivers it (a redelivery that finds it delivered is acked as a duplicate), so the ack is dropped.
    if (socket !== this.#socket || !socket.connected) {
      this.#log.debug({ msgId: idOf(message), status: reply.status }, 'ack dropped: its connection is closed');
      return;
    }
    ack(reply);
  }
}
