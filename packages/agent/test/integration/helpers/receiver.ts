/** A real local HTTP receiver (node:http, 127.0.0.1, port 0) standing in for OUTGOING_MESSAGE_ENDPOINT. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got. */
export interface ReceivedRequest {
  readonly method: string;
  readonly contentType: string | undefined;
  readonly body: unknown;
}

/** Decides the status of each request (default 200); may wait to simulate a slow endpoint. */
export type Responder = (request: ReceivedRequest, index: number) => number | Promise<number>;

/** A running receiver. */
export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  respond: Responder = () => 200;
  readonly #server = createServer((req, res) => {
    this.#handle(req, res).catch(() => res.destroy());
  });

  /** Starts a receiver on a free port. */
  static async start(): Promise<Receiver> {
    const receiver = new Receiver();
    await new Promise<void>((resolve) => receiver.#server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  /** The endpoint URL. */
  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/dmr/incoming`;
  }

  /** Closes the port and every kept-alive connection. */
  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request = {
      method: req.method ?? '',
      contentType: req.headers['content-type'],
      body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
    };
    const index = this.requests.push(request) - 1;
    const status = await this.respond(request, index);
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ status }));
  }
}
