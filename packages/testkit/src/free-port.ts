import { createServer } from 'node:net';

/**
 * Asks the kernel for a free TCP port on 127.0.0.1 by binding port 0 and
 * closing again. Another process may take the port before it is reused; the
 * window is short and a node start then fails fast on the bind error.
 */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => (port === undefined ? reject(new Error('No port assigned')) : resolve(port)));
    });
  });
}

/** Finds `count` distinct free ports on 127.0.0.1 (see `findFreePort`). */
export async function findFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  // The kernel may hand out a just-closed port again; retry until distinct.
  while (ports.size < count) ports.add(await findFreePort());
  return [...ports];
}
