// A TCP proxy on 127.0.0.1 standing in for the network between two processes: `cut()` drops every live
// connection at once (both ends see a reset, as after a network blip or a load balancer restart), and `hold()`
// stops forwarding in one direction (bytes queue up) until `release()`, which delays e.g. acknowledgements.

import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type Socket } from 'node:net';

/** Which way bytes flow: from the connecting client to the target, or back. */
export type Direction = 'to-target' | 'to-client';

interface Pair {
  readonly client: Socket;
  readonly target: Socket;
}

/** The proxy. */
export class TcpProxy {
  readonly #pairs = new Set<Pair>();
  readonly #held = new Set<Direction>();
  readonly #server: Server;
  /** Connections cut so far. */
  cuts = 0;

  constructor(
    private readonly targetPort: number,
    private readonly targetHost = '127.0.0.1',
  ) {
    this.#server = createServer((client) => this.#accept(client));
  }

  /** Listens on a free port. */
  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  /** The proxy's port. */
  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Number of live connections. */
  get connections(): number {
    return this.#pairs.size;
  }

  /** Resets every live connection (new ones are accepted as before). */
  cut(): void {
    for (const pair of this.#pairs) {
      pair.client.resetAndDestroy();
      pair.target.resetAndDestroy();
      this.cuts++;
    }
    this.#pairs.clear();
  }

  /** Stops forwarding in `direction`; bytes wait in the socket buffers until {@link release}. */
  hold(direction: Direction): void {
    this.#held.add(direction);
    for (const pair of this.#pairs) this.#stop(pair, direction);
  }

  /** Forwards again in every held direction. */
  release(): void {
    for (const direction of this.#held) for (const pair of this.#pairs) this.#forward(pair, direction);
    this.#held.clear();
  }

  /** Closes the listener and every connection. */
  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #forward(pair: Pair, direction: Direction): void {
    const [from, to] = direction === 'to-target' ? [pair.client, pair.target] : [pair.target, pair.client];
    from.pipe(to);
  }

  // unpipe, not just pause: a pipe resumes its source by itself when the destination drains
  #stop(pair: Pair, direction: Direction): void {
    const [from, to] = direction === 'to-target' ? [pair.client, pair.target] : [pair.target, pair.client];
    from.unpipe(to);
    from.pause();
  }

  #accept(client: Socket): void {
    const target = connect({ port: this.targetPort, host: this.targetHost, noDelay: true });
    client.setNoDelay(true);
    const pair: Pair = { client, target };
    this.#pairs.add(pair);
    const end = () => {
      this.#pairs.delete(pair);
      client.destroy();
      target.destroy();
    };
    client.on('error', end).on('close', end);
    target.on('error', end).on('close', end);
    for (const direction of ['to-target', 'to-client'] as const) {
      if (this.#held.has(direction)) this.#stop(pair, direction);
      else this.#forward(pair, direction);
    }
  }
}
