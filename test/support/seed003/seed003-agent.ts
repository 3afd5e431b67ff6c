// SEED-003 STAND-IN AGENT (issue 16). Seed 003's dmr-agent is not on this machine; this is a stand-in that behaves on
// the wire as the issue describes it, over a real Socket.IO connection: a handshake token without aud/jti, the agent
// list read from `data[0]`, messages sealed and opened with seed003-crypto.ts (`{data}`-only RS256 JWS in an RSA-OAEP
// JWE; its key imported as PKCS#8 for RSA-OAEP), the decrypted message POSTed to its endpoint, and delivery acks in
// seed 003's two error types only: DECRYPTION_FAILED when opening fails, DELIVERY_FAILED when the endpoint fails.
import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import type { Seed003Ack, Seed003Keys } from './fixtures.js';
import { type Seed003Wire, seed003Open, seed003Seal, seed003Token } from './seed003-crypto.js';

const NAMESPACE = '/v1/dmr-agent-events';

/** A v1 body as a local service posts it. */
export interface V1Body {
  readonly id: string;
  readonly recipientId: string;
  readonly timestamp: string;
  readonly type: string;
  readonly payload: unknown;
}

/** A connected stand-in seed-003 agent. */
export class Seed003Agent {
  /** Every ack this agent answered, with the message id. */
  readonly acks: Array<{ id: string; ack: Seed003Ack }> = [];
  readonly #id: string;
  readonly #keys: Seed003Keys;
  readonly #endpointUrl: string;
  readonly #directory = new Map<string, string>();
  #socket: Socket | undefined;

  private constructor(id: string, keys: Seed003Keys, endpointUrl: string) {
    this.#id = id;
    this.#keys = keys;
    this.#endpointUrl = endpointUrl;
  }

  /** Connects to `serverUrl` and waits for the first agent list. */
  static async connect(id: string, keys: Seed003Keys, serverUrl: string, endpointUrl: string): Promise<Seed003Agent> {
    const agent = new Seed003Agent(id, keys, endpointUrl);
    const token = await seed003Token(id, keys.privatePem);
    const socket = io(`${serverUrl}${NAMESPACE}`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    agent.#socket = socket;
    const listed = new Promise<void>((resolve, reject) => {
      socket.once('connect_error', (error) => reject(error));
      socket.on('dmr:agents:full-list', (data: unknown) => {
        agent.#applyList(data, true);
        resolve();
      });
    });
    socket.on('dmr:agents:partial-list', (data: unknown) => agent.#applyList(data, false));
    socket.on('dmr:agents:message-from-dmr-server', (message: Seed003Wire, ack: (reply: Seed003Ack) => void) => {
      agent.#receive(message).then(
        (reply) => {
          agent.acks.push({ id: String(message?.id), ack: reply });
          ack(reply);
        },
        () => undefined,
      );
    });
    await listed;
    return agent;
  }

  /** Seals `body` for its recipient and emits it; resolves with the server's ack. */
  async send(body: V1Body): Promise<{ status: string; error?: string; reason?: string }> {
    const recipientKey = this.#directory.get(body.recipientId);
    if (recipientKey === undefined) throw new Error(`recipient ${body.recipientId} is not in the agent list`);
    const wire: Seed003Wire = {
      id: body.id,
      timestamp: body.timestamp,
      senderId: this.#id,
      recipientId: body.recipientId,
      type: body.type,
      payload: await seed003Seal(body.payload, this.#keys.privatePem, recipientKey),
    };
    return (this.#socket as Socket).timeout(10_000).emitWithAck('dmr:agents:message-to-dmr-server', wire);
  }

  close(): void {
    this.#socket?.close();
  }

  #applyList(data: unknown, isFull: boolean): void {
    const agents = Array.isArray(data) ? data[0] : undefined;
    if (!Array.isArray(agents)) return;
    if (isFull) this.#directory.clear();
    for (const entry of agents as Array<{ id: string; authenticationCertificate: string; deleted?: boolean }>) {
      if (entry.deleted) this.#directory.delete(entry.id);
      else this.#directory.set(entry.id, entry.authenticationCertificate);
    }
  }

  async #receive(message: Seed003Wire): Promise<Seed003Ack> {
    let data: unknown;
    try {
      const senderKey = this.#directory.get(message.senderId);
      if (senderKey === undefined) throw new Error('unknown sender');
      data = await seed003Open(message.payload, this.#keys.privatePem, senderKey);
    } catch (error) {
      return { status: 'error', errors: [{ type: 'DECRYPTION_FAILED', message: error instanceof Error ? error.message : String(error) }] };
    }
    const { id, senderId, recipientId, timestamp, type } = message;
    const response = await fetch(this.#endpointUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': randomUUID() },
      body: JSON.stringify({ id, senderId, recipientId, timestamp, type, payload: data }),
    }).catch(() => undefined);
    if (response?.ok) return { status: 'ok' };
    return { status: 'error', errors: [{ type: 'DELIVERY_FAILED', message: `endpoint answered ${response?.status ?? 'nothing'}` }] };
  }
}
