// An authenticated agent that writes Socket.IO packets by hand (issue 15): event arguments and delivery acks as
// arbitrary JSON text, which socket.io-client itself could not produce (JSON.stringify throws on deep nesting,
// and its ack callbacks always send well-formed packets). It stands for a compromised or broken agent.
import { AGENT_NAMESPACE, EVENTS } from '@dmr/shared';
import type { Identity } from './dmr-system.js';
import { connectRawAgent, type RawAgent } from './raw-agent.js';

/** A delivery the server emitted to this agent, with the Socket.IO ack id to answer it by. */
export interface RawDelivery {
  readonly ackId: number;
  readonly message: Record<string, unknown>;
}

/** What came back for an event written with an ack id. */
export type RawReply = { readonly args: unknown[] } | 'timeout';

const EVENT_PACKET = '2';
const ACK_PACKET = '3';
const DELIVERY_PREFIX = new RegExp(`^${EVENT_PACKET}${AGENT_NAMESPACE.replaceAll('/', '\\/')},(\\d+)(\\[.*)$`, 's');

/** A connected hand-writing agent; reconnects (fresh token) when the server closed its connection. */
export class HostileAgent {
  #raw: RawAgent | undefined;
  // far above socket.io-client's own counter, so hand-written ids never collide with its acks
  #nextAckId = 1_000_000;
  #onDelivery: (delivery: RawDelivery) => void = () => undefined;
  /** Connections the server closed under this agent (protocol violations end the connection). */
  reconnects = 0;

  constructor(
    readonly serverUrl: string,
    readonly identity: Identity,
  ) {}

  /** Connects (again, if the last connection is gone). */
  async connect(): Promise<this> {
    if (this.#raw?.socket.connected) return this;
    if (this.#raw) this.reconnects++;
    this.#raw?.close();
    const raw = await connectRawAgent(this.serverUrl, this.identity);
    raw.socket.io.engine.on('message', (data) => this.#onEngineMessage(String(data)));
    this.#raw = raw;
    return this;
  }

  /** Answers every delivery with `handler` (it calls {@link HostileAgent.ack} or stays silent). */
  handleDeliveries(handler: (delivery: RawDelivery) => void): void {
    this.#onDelivery = handler;
  }

  /**
   * Writes an EVENT packet `[eventText, ...argTexts]` (each a JSON text). With `ack`, the packet carries an ack id
   * and the promise resolves with what the server acked, or `'timeout'`.
   */
  async emit(eventText: string, argTexts: readonly string[], options: { ack: boolean; timeoutMs?: number }): Promise<RawReply | 'sent'> {
    const raw = (await this.connect()).#raw as RawAgent;
    const data = `[${[eventText, ...argTexts].join(',')}]`;
    if (!options.ack) {
      raw.socket.io.engine.write(`${EVENT_PACKET}${AGENT_NAMESPACE},${data}`);
      return 'sent';
    }
    const ackId = this.#nextAckId++;
    const acks = (raw.socket as unknown as { acks: Record<number, (...args: unknown[]) => void> }).acks;
    return new Promise<RawReply>((resolve) => {
      const timer = setTimeout(() => {
        delete acks[ackId];
        resolve('timeout');
      }, options.timeoutMs ?? 10_000);
      acks[ackId] = (...args: unknown[]) => {
        clearTimeout(timer);
        resolve({ args });
      };
      raw.socket.io.engine.write(`${EVENT_PACKET}${AGENT_NAMESPACE},${ackId}${data}`);
    });
  }

  /** Sends `message-to-dmr-server` with one argument given as JSON text, waiting for the ack. */
  send(messageText: string, timeoutMs?: number): Promise<RawReply | 'sent'> {
    return this.emit(JSON.stringify(EVENTS.messageToServer), [messageText], { ack: true, ...(timeoutMs ? { timeoutMs } : {}) });
  }

  /** Writes an ACK packet for `ackId` whose argument list is `argsText` (a JSON text; a non-array breaks the protocol). */
  ack(ackId: number, argsText: string): void {
    if (this.#raw?.socket.connected) this.#raw.socket.io.engine.write(`${ACK_PACKET}${AGENT_NAMESPACE},${ackId}${argsText}`);
  }

  /** True while the current connection is up. */
  get isConnected(): boolean {
    return this.#raw?.socket.connected === true;
  }

  close(): void {
    this.#raw?.close();
    this.#raw = undefined;
  }

  #onEngineMessage(data: string): void {
    const match = DELIVERY_PREFIX.exec(data);
    if (!match) return;
    const [event, message] = JSON.parse(match[2] as string) as [string, Record<string, unknown>];
    if (event === EVENTS.messageFromServer) this.#onDelivery({ ackId: Number(match[1]), message });
  }
}
