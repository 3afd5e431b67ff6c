import { type IncomingMessage, STATUS_CODES } from 'node:http';

/** How much of a body that is still arriving is read and thrown away after an early answer. */
export interface DiscardBounds {
  /** Bytes read after the answer before the connection is cut. */
  readonly maxBytes: number;
  /** Time from the answer until the connection is cut, whatever was read, ms. */
  readonly maxMs: number;
}

/**
 * 64 MiB: a client that streams a 20 MiB file to the agent gets to finish and reads the answer; reading and throwing
 * away that much costs well under a second of one core on loopback and no memory. 10 s bounds a slow sender.
 */
export const DEFAULT_DISCARD_BOUNDS: DiscardBounds = { maxBytes: 64 * 1024 * 1024, maxMs: 10_000 };

/**
 * Answers a request whose body is still arriving (too large, or refused before it was read), then closes the
 * connection without a reset.
 *
 * Why not a normal reply: fastify answers these with `Connection: close`, and Node then destroys the socket while the
 * client is still sending. Closing a socket with unread bytes in its receive buffer makes the kernel send a TCP reset,
 * so a client that is still writing sees EPIPE or ECONNRESET and never reads the status. Here the answer is written at
 * once (a client that reads while it sends can stop early), the rest of the body is read and thrown away up to
 * `bounds`, and only then is the connection half-closed (FIN after the answer), so the client finishes sending and
 * reads the answer. A client that sends more than `bounds` allows is cut off, reset included: that is the bound.
 *
 * The caller must have taken the response over (`reply.hijack()`): the answer is written to the socket directly, since
 * Node's own response would close the socket as soon as it is written.
 */
export function answerThenDiscard(request: IncomingMessage, status: number, body: unknown, bounds = DEFAULT_DISCARD_BOUNDS): void {
  const socket = request.socket;
  if (socket.destroyed) return;
  const json = JSON.stringify(body);
  socket.write(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(json)}\r\nconnection: close\r\n\r\n${json}`,
  );
  let discardedBytes = 0;
  const cut = () => {
    stopReading();
    socket.destroy();
  };
  const deadline = setTimeout(cut, bounds.maxMs);
  const onData = (chunk: Buffer) => {
    discardedBytes += chunk.length;
    if (discardedBytes > bounds.maxBytes) cut();
  };
  const onEnd = () => {
    stopReading();
    // FIN after the answer; the deadline still destroys a socket whose client never closes its side
    socket.end();
  };
  const stopReading = () => {
    request.off('data', onData);
    request.off('end', onEnd);
  };
  // an abort after the answer is the client's choice, not a fault: the socket's close ends it all
  request.on('error', () => undefined);
  request.on('data', onData);
  request.once('end', onEnd);
  if (request.readableEnded) onEnd();
  socket.once('close', () => {
    clearTimeout(deadline);
    stopReading();
  });
  request.resume();
}
