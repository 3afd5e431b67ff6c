/**
 * The bounds of `answerThenDiscard` over real sockets: the agent reads and throws away what a client sends after an
 * early answer only up to a byte count and a time, then cuts the connection. A plain node:http server with small
 * bounds stands in for the agent's HTTP server, so the bounds are reached with little traffic.
 */
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { answerThenDiscard, type DiscardBounds } from '../../src/api/early-answer.js';

interface Seen {
  status: number | undefined;
  text: string;
  error: string | undefined;
}

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A server that answers every request at once, before reading its body, and counts what it discarded. */
async function startAnsweringServer(bounds: DiscardBounds): Promise<{ port: number; discarded: () => number }> {
  let discarded = 0;
  const answering = createServer((req) => {
    req.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
    });
    answerThenDiscard(req, 413, { code: 'DMR_VALIDATION_TOO_LARGE' }, bounds);
  });
  server = answering;
  await new Promise<void>((resolve) => answering.listen(0, '127.0.0.1', resolve));
  return { port: (answering.address() as AddressInfo).port, discarded: () => discarded };
}

/**
 * A raw client (node:net) that sends a chunked POST and keeps sending `chunkBytes` chunks whatever it reads, until
 * `totalBytes` went out, the connection fails, or it reaches `stallAfterBytes` (then it waits, sending nothing).
 * node:http's client is no use here: it closes by itself once it has read a `Connection: close` answer.
 */
function streamTo(port: number, totalBytes: number, chunkBytes: number, options: { stallAfterBytes?: number } = {}): Promise<Seen> {
  return new Promise((resolve) => {
    const seen: Seen = { status: undefined, text: '', error: undefined };
    let received = '';
    const socket = connect({ host: '127.0.0.1', port });
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      received += text;
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      seen.error ??= error.code ?? error.message;
    });
    socket.on('close', () => {
      const [head = '', body = ''] = received.split('\r\n\r\n');
      seen.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
      seen.text = body;
      resolve(seen);
    });
    socket.write('POST / HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n');
    const chunk = Buffer.concat([Buffer.from(`${chunkBytes.toString(16)}\r\n`), Buffer.alloc(chunkBytes, 0x20), Buffer.from('\r\n')]);
    let sent = 0;
    const pump = (): void => {
      while (!socket.destroyed && sent < totalBytes) {
        if (options.stallAfterBytes !== undefined && sent >= options.stallAfterBytes) return;
        sent += chunkBytes;
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
      if (!socket.destroyed && sent >= totalBytes) socket.write('0\r\n\r\n');
    };
    pump();
  });
}

describe('answerThenDiscard over real sockets', () => {
  it('cuts a client that keeps sending past the byte bound, after it could read the answer', async () => {
    const bounds = { maxBytes: 1024 * 1024, maxMs: 60_000 };
    const { port, discarded } = await startAnsweringServer(bounds);
    const seen = await streamTo(port, 256 * 1024 * 1024, 64 * 1024);
    expect(seen.status).toBe(413);
    expect(JSON.parse(seen.text)).toEqual({ code: 'DMR_VALIDATION_TOO_LARGE' });
    expect(seen.error, 'the connection was cut before the client sent all of its 256 MiB').toMatch(/ECONNRESET|EPIPE/);
    // one chunk the socket had already read may arrive after the cut decision
    expect(discarded()).toBeLessThan(bounds.maxBytes + 1024 * 1024);
  });

  it('cuts a client that stops sending mid-body once the time bound passed', async () => {
    const { port, discarded } = await startAnsweringServer({ maxBytes: 64 * 1024 * 1024, maxMs: 300 });
    const seen = await streamTo(port, 1024 * 1024, 16 * 1024, { stallAfterBytes: 64 * 1024 });
    expect(seen.status).toBe(413);
    // the client never closes by itself: the close it saw is the server's
    expect(discarded()).toBe(64 * 1024);
  });
});
