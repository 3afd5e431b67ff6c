// SEED-003 STAND-IN SERVER (issue 16). Seed 003's dmr-server is not on this machine; this is a stand-in that behaves
// on the wire as the issue describes it, over a real Socket.IO server and a real RabbitMQ:
// - namespace /v1/dmr-agent-events, handshake `auth.token` verified against the registry key (no aud/jti rules);
// - `dmr:agents:full-list` with `[agents]` (camelCase; it does not know DMR's `capabilities` and passes none on);
// - `dmr:agents:message-to-dmr-server` published to the queue named `<recipientId>` (not `dmr.agent.<id>`), ack
//   `{status:'ok'}` after the publisher confirm;
// - deliveries from `<agentId>` as `dmr:agents:message-from-dmr-server` with `receivedAt` added;
// - the agent's ack: ok → acked; DECRYPTION_FAILED → dead-lettered to `<agentId>.dlq` (ASSUMPTION: the DLQ name and its
//   headers are ours; seed 003's README only says agent DLQs exist); DELIVERY_FAILED → delivered again, up to
//   `deliveryLimit` attempts, then dead-lettered (ASSUMPTION: the issue says "retry up to a limit"); ANY OTHER TYPE →
//   acked away, the message is lost (what the issue measured). Lost messages are recorded in `lost` so tests can show
//   that none is; no answer in time or a disconnect → back to the queue.
import { readFileSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import amqp, { type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { Server, type Socket } from 'socket.io';
import { seed003VerifyToken } from './seed003-crypto.js';

const NAMESPACE = '/v1/dmr-agent-events';
const ACK_TIMEOUT_MS = 10_000;

/** A registry entry as CentOps serves it (the fields seed 003 knows). */
interface CentOpsEntry {
  readonly id: string;
  readonly name: string;
  readonly authentication_certificate: string;
  readonly created_at: string;
  readonly updated_at: string;
}

/** What happened to one delivery, for the tests. */
export interface Seed003Outcome {
  readonly id: string;
  readonly recipientId: string;
  readonly outcome: 'delivered' | 'dead-lettered' | 'retried' | 'lost' | 'returned';
  readonly errorType?: string;
}

/** The DLQ name this stand-in uses for `agentId` (an assumption, see the file comment). */
export function seed003DeadLetterQueue(agentId: string): string {
  return `${agentId}.dlq`;
}

/** A running stand-in of seed 003's server. */
export class Seed003Server {
  readonly outcomes: Seed003Outcome[] = [];
  readonly #http: HttpServer;
  readonly #io: Server;
  readonly #registryPath: string;
  readonly #deliveryLimit: number;
  #connection: ChannelModel | undefined;
  #publisher: ConfirmChannel | undefined;
  #entries: CentOpsEntry[] = [];

  private constructor(registryPath: string, deliveryLimit: number) {
    this.#registryPath = registryPath;
    this.#deliveryLimit = deliveryLimit;
    this.#http = createServer();
    this.#io = new Server(this.#http, { transports: ['websocket'] });
    const nsp = this.#io.of(NAMESPACE);
    nsp.use((socket, next) => {
      seed003VerifyToken(socket.handshake.auth.token, (id) => this.#keyOf(id)).then(
        (agentId) => {
          if (agentId === undefined) return next(new Error('Unauthorized'));
          socket.data.agentId = agentId;
          next();
        },
        () => next(new Error('Unauthorized')),
      );
    });
    nsp.on('connection', (socket) => {
      this.#onConnection(socket).catch(() => socket.disconnect(true));
    });
  }

  /** Starts on 127.0.0.1:0 with the CentOps document at `registryPath` and the broker at `amqpUrl`. */
  static async start(options: { amqpUrl: string; registryPath: string; deliveryLimit?: number }): Promise<Seed003Server> {
    const server = new Seed003Server(options.registryPath, options.deliveryLimit ?? 3);
    server.reloadRegistry();
    server.#connection = await amqp.connect(options.amqpUrl);
    server.#publisher = await server.#connection.createConfirmChannel();
    await new Promise<void>((resolve) => server.#http.listen(0, '127.0.0.1', resolve));
    return server;
  }

  /** Base URL agents use as their server URL. */
  get url(): string {
    return `http://127.0.0.1:${(this.#http.address() as AddressInfo).port}`;
  }

  /** Re-reads the CentOps document. */
  reloadRegistry(): void {
    this.#entries = (JSON.parse(readFileSync(this.#registryPath, 'utf8')) as { response: CentOpsEntry[] }).response;
  }

  /** Outcomes of message `id`. */
  outcomesOf(id: string): Seed003Outcome[] {
    return this.outcomes.filter((entry) => entry.id === id);
  }

  async close(): Promise<void> {
    this.#io.of(NAMESPACE).disconnectSockets(true);
    await this.#io.close();
    this.#http.closeAllConnections();
    await this.#connection?.close().catch(() => undefined);
  }

  #keyOf(agentId: string): string | undefined {
    return this.#entries.find((entry) => entry.id === agentId)?.authentication_certificate;
  }

  /** The agent list in the camelCase seed 003's agents read; fields it does not know are not passed on. */
  #agentList() {
    return this.#entries.map((entry) => ({
      id: entry.id,
      name: entry.name,
      authenticationCertificate: entry.authentication_certificate,
      createdAt: entry.created_at,
      updatedAt: entry.updated_at,
    }));
  }

  async #onConnection(socket: Socket): Promise<void> {
    const agentId = socket.data.agentId as string;
    socket.on('dmr:agents:message-to-dmr-server', (message: Record<string, unknown>, ack: (reply: unknown) => void) => {
      this.#accept(agentId, message).then(ack, (error: Error) => ack({ status: 'error', error: error.message }));
    });
    socket.emit('dmr:agents:full-list', [this.#agentList()]);
    await this.#consume(agentId, socket);
  }

  async #accept(agentId: string, message: Record<string, unknown>): Promise<unknown> {
    if (message.senderId !== agentId) return { status: 'error', error: 'senderId does not match the authenticated agent' };
    const recipientId = String(message.recipientId);
    if (this.#keyOf(recipientId) === undefined) return { status: 'error', error: 'unknown recipient' };
    await this.#publish(recipientId, Buffer.from(JSON.stringify(message)), {});
    return { status: 'ok' };
  }

  async #publish(queue: string, body: Buffer, headers: Record<string, unknown>): Promise<void> {
    const channel = this.#publisher as ConfirmChannel;
    await channel.assertQueue(queue, { durable: true });
    await new Promise<void>((resolve, reject) => {
      channel.sendToQueue(queue, body, { persistent: true, headers }, (error) => (error ? reject(error) : resolve()));
    });
  }

  async #consume(agentId: string, socket: Socket): Promise<void> {
    const channel = await (this.#connection as ChannelModel).createChannel();
    socket.on('disconnect', () => {
      channel.close().catch(() => undefined);
    });
    await channel.assertQueue(agentId, { durable: true });
    await channel.prefetch(10);
    await channel.consume(agentId, (delivery) => {
      if (delivery) this.#deliver(agentId, socket, channel, delivery).catch(() => undefined);
    });
  }

  async #deliver(agentId: string, socket: Socket, channel: amqp.Channel, delivery: ConsumeMessage): Promise<void> {
    const message = JSON.parse(delivery.content.toString('utf8')) as Record<string, unknown>;
    const id = String(message.id);
    let reply: { status?: unknown; errors?: Array<{ type?: unknown; message?: unknown }> };
    try {
      reply = await socket
        .timeout(ACK_TIMEOUT_MS)
        .emitWithAck('dmr:agents:message-from-dmr-server', { ...message, receivedAt: new Date().toISOString() });
    } catch {
      this.outcomes.push({ id, recipientId: agentId, outcome: 'returned' });
      channel.nack(delivery, false, true);
      return;
    }
    if (reply?.status === 'ok') {
      this.outcomes.push({ id, recipientId: agentId, outcome: 'delivered' });
      channel.ack(delivery);
      return;
    }
    const error = reply?.errors?.[0];
    const type = typeof error?.type === 'string' ? error.type : '';
    const text = typeof error?.message === 'string' ? error.message : '';
    const attempts = Number(delivery.properties.headers?.['x-seed003-attempts'] ?? 0) + 1;
    if (type === 'DECRYPTION_FAILED' || (type === 'DELIVERY_FAILED' && attempts >= this.#deliveryLimit)) {
      await this.#publish(seed003DeadLetterQueue(agentId), delivery.content, {
        'x-seed003-error-type': type,
        'x-seed003-error-message': text,
      });
      this.outcomes.push({ id, recipientId: agentId, outcome: 'dead-lettered', errorType: type });
    } else if (type === 'DELIVERY_FAILED') {
      await this.#publish(agentId, delivery.content, { 'x-seed003-attempts': attempts });
      this.outcomes.push({ id, recipientId: agentId, outcome: 'retried', errorType: type });
    } else {
      // what the issue measured: an error type it does not know is acked away
      this.outcomes.push({ id, recipientId: agentId, outcome: 'lost', errorType: type });
    }
    channel.ack(delivery);
  }
}
