// The endpoint client's HTTP layer (undici Pool) against a real node:http server on 127.0.0.1: what it sends, that it
// keeps connections alive, and how refusals, aborts and oversized answers end.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpPost } from '../../src/delivery/index.js';

interface Seen {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly remotePort: number | undefined;
}

const servers: Server[] = [];
const silentServers: TcpServer[] = [];
const silentSockets: Socket[] = [];

/** A TCP server that accepts connections and never says anything (a TLS handshake never completes). */
async function silentServer(): Promise<{ port: number; accepted: () => number }> {
  let count = 0;
  const server = createTcpServer((socket) => {
    count++;
    silentSockets.push(socket);
  });
  silentServers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, accepted: () => count };
}

async function serve(answer: (seen: Seen, res: import('node:http').ServerResponse) => void): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const entry = {
      method: req.method,
      url: req.url,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      remotePort: req.socket.remotePort,
    };
    seen.push(entry);
    answer(entry, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/dmr/incoming?tenant=t1`, seen };
}

afterEach(async () => {
  for (const socket of silentSockets.splice(0)) socket.destroy();
  for (const server of silentServers.splice(0)) await new Promise<void>((resolve) => server.close(() => resolve()));
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

describe('createHttpPost', () => {
  it('POSTs the JSON body with its headers to the path and query, over kept-alive connections', async () => {
    const { url, seen } = await serve((_seen, res) => res.writeHead(202).end('{"ok":true}'));
    const { post } = createHttpPost();
    const body = JSON.stringify({ id: 'm1', text: 'tere' });

    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await post(url, body, new AbortController().signal, { 'idempotency-key': `a:m${i}` }));

    expect(statuses).toEqual([202, 202, 202]);
    expect(seen.map((s) => [s.method, s.url, s.body, s.headers['content-type'], s.headers['idempotency-key']])).toEqual([
      ['POST', '/dmr/incoming?tenant=t1', body, 'application/json', 'a:m0'],
      ['POST', '/dmr/incoming?tenant=t1', body, 'application/json', 'a:m1'],
      ['POST', '/dmr/incoming?tenant=t1', body, 'application/json', 'a:m2'],
    ]);
    // one after another: a request may go out before the previous connection is back in the pool, never more
    expect(new Set(seen.map((s) => s.remotePort)).size).toBeLessThanOrEqual(2);
    for (let i = 3; i < 20; i++) await post(url, body, new AbortController().signal, { 'idempotency-key': `a:m${i}` });
    expect(new Set(seen.map((s) => s.remotePort)).size).toBeLessThanOrEqual(2);
  });

  it('resolves with any status, and a large answer does not block the next request', async () => {
    const { url } = await serve((seen, res) => {
      if (seen.body === 'big') res.writeHead(500).end(Buffer.alloc(512 * 1024, 'x'));
      else res.writeHead(404).end();
    });
    const { post } = createHttpPost();
    expect(await post(url, 'big', new AbortController().signal)).toBe(500);
    expect(await post(url, 'small', new AbortController().signal)).toBe(404);
  });

  it('close ends its kept-alive connections', async () => {
    const { url } = await serve((_seen, res) => res.writeHead(200).end());
    const server = servers.at(-1) as Server;
    const http = createHttpPost();
    await Promise.all([1, 2, 3].map(() => http.post(url, '{}', new AbortController().signal)));
    const open = () =>
      new Promise<number>((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
    expect(await open()).toBeGreaterThan(0);

    await http.close();
    await expect.poll(open).toBe(0);
  });

  it('rejects with the socket error code when nothing listens', async () => {
    const { url } = await serve((_seen, res) => res.end());
    const closed = servers.pop() as Server;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    await expect(createHttpPost().post(url, '{}', new AbortController().signal)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('rejects when its signal aborts while the endpoint has not answered', async () => {
    const { url, seen } = await serve(() => undefined);
    const controller = new AbortController();
    const posting = createHttpPost().post(url, '{}', controller.signal);
    await expect.poll(() => seen.length).toBe(1);
    controller.abort();

    await expect(posting).rejects.toThrow();
  });

  it('sends the credentials of the URL as Basic authorization', async () => {
    const { url, seen } = await serve((_seen, res) => res.writeHead(200).end());
    const withCredentials = url.replace('http://', 'http://dmr%40agent:p%C3%A4ss@');
    expect(await createHttpPost().post(withCredentials, '{}', new AbortController().signal)).toBe(200);
    expect(seen[0]?.headers.authorization).toBe(`Basic ${Buffer.from('dmr@agent:päss').toString('base64')}`);
  });

  it('rejects a request waiting for a connection as soon as its signal aborts', async () => {
    const { url, seen } = await serve(() => undefined);
    const http = createHttpPost({ maxConnections: 1 });
    const holder = new AbortController();
    const first = http.post(url, '{}', holder.signal).catch((error: unknown) => error);
    await expect.poll(() => seen.length).toBe(1);
    const controller = new AbortController();
    const queued = http.post(url, '{}', controller.signal);
    controller.abort(new Error('stop waiting'));

    // the only connection never frees up: only the signal can end this request
    await expect(queued).rejects.toThrow('stop waiting');
    expect(seen).toHaveLength(1);
    holder.abort();
    await first;
    await http.close();
  });

  it('rejects a request whose connection is still being set up as soon as its signal aborts', async () => {
    const silent = await silentServer();
    const http = createHttpPost({ connectTimeoutMs: 60_000 });
    const controller = new AbortController();
    const connecting = http.post(`https://127.0.0.1:${silent.port}/dmr`, '{}', controller.signal);
    await expect.poll(silent.accepted).toBe(1);
    controller.abort(new Error('stop connecting'));

    await expect(connecting).rejects.toThrow('stop connecting');
  });

  it('gives up on a connection set-up that takes longer than connectTimeoutMs', async () => {
    const silent = await silentServer();
    const http = createHttpPost({ connectTimeoutMs: 300 });
    await expect(http.post(`https://127.0.0.1:${silent.port}/dmr`, '{}', new AbortController().signal)).rejects.toMatchObject({
      code: 'UND_ERR_CONNECT_TIMEOUT',
    });
  });

  it('refuses to post once closed', async () => {
    const { url } = await serve((_seen, res) => res.writeHead(200).end());
    const http = createHttpPost();
    await http.close();
    await expect(http.post(url, '{}', new AbortController().signal)).rejects.toThrow('endpoint client is closed');
  });
});
