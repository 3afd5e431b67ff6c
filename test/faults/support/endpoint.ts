// A real HTTP endpoint standing in for a chatbot's OUTGOING_MESSAGE_ENDPOINT. It behaves as docs/reliability.md
// asks of an endpoint that needs exactly-once effects: it acts on a message once per `Idempotency-Key` and answers
// a re-post of a key it already acted on with 2xx without acting again. It records every message it acted on
// (`accepted`, arrival order: deliveries, duplicates, per-chat order) and, apart, every re-post it recognised
// (`reposts`), so a scenario sees both what the endpoint did and what travelled. A POST without the header is
// acted on every time (nothing to recognise it by), so a missing or changing key shows up as a duplicate.
// It can be switched to fail: answer 500, or hang (take the request and never answer, recording nothing,
// like a chatbot stuck before it processed anything).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** How the endpoint treats the next requests. */
export type EndpointMode = 'ok' | 'fail-500' | 'hang';

/** One accepted delivery. */
export interface Accepted {
  readonly id: string;
  readonly senderId: string;
  readonly chatId: string;
  readonly atMs: number;
}

/** The fault endpoint. */
export class FaultEndpoint {
  /** Messages acted on, in arrival order. */
  readonly accepted: Accepted[] = [];
  /** POSTs answered 2xx without acting, because their Idempotency-Key had been acted on already. */
  readonly reposts: Accepted[] = [];
  readonly #actedOnKeys = new Set<string>();
  /** Requests answered with something other than 2xx, or hung. */
  refused = 0;
  mode: EndpointMode = 'ok';
  /** Extra time before answering 2xx (a slow chatbot). */
  latencyMs = 0;
  readonly #hanging = new Set<ServerResponse>();
  readonly #sockets = new Set<Socket>();
  #handling = 0;
  readonly #server: Server = createServer((request, response) => {
    this.#handling++;
    this.#handle(request, response)
      .catch(() => response.destroy())
      .finally(() => this.#handling--);
  });

  /** Listens on 127.0.0.1 and a free port. */
  async start(): Promise<this> {
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  /**
   * True when no client holds a connection and no request is being handled: every request a client wrote has been
   * recorded or failed. After a client process is killed this becomes true once the kernel closed its sockets.
   */
  get isQuiet(): boolean {
    return this.#sockets.size === 0 && this.#handling === 0;
  }

  /** The URL for OUTGOING_MESSAGE_ENDPOINT. */
  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/dmr/incoming`;
  }

  /** Switches the mode; leaving `hang` drops the hung requests unanswered (they were never processed). */
  setMode(mode: EndpointMode): void {
    this.mode = mode;
    if (mode !== 'hang') {
      for (const response of this.#hanging) response.destroy();
      this.#hanging.clear();
    }
  }

  /** Distinct message ids accepted. */
  deliveredIds(): Set<string> {
    return new Set(this.accepted.map((entry) => entry.id));
  }

  /** Closes the port and every connection. */
  async close(): Promise<void> {
    this.setMode('ok');
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (this.mode === 'hang') {
      this.#hanging.add(response);
      this.refused++;
      response.once('close', () => this.#hanging.delete(response));
      return;
    }
    if (this.mode === 'fail-500') {
      this.refused++;
      response.writeHead(500).end();
      return;
    }
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string; senderId: string; payload: { chat: { id: string } } };
    const entry = { id: body.id, senderId: body.senderId, chatId: body.payload.chat.id, atMs: Date.now() };
    const key = request.headers['idempotency-key'];
    if (typeof key === 'string' && this.#actedOnKeys.has(key)) {
      this.reposts.push(entry);
    } else {
      if (typeof key === 'string') this.#actedOnKeys.add(key);
      this.accepted.push(entry);
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
  }
}
