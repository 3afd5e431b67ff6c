// A light HTTP/1.1 keep-alive client for the load generator. The bench shares the machine's 2 cores with
// everything it measures, so every microsecond the generator spends is taken from DMR: node:http's client
// (ClientRequest, the Agent pool, header objects, an IncomingMessage stream per response) cost about as much CPU
// per message as dmr-server's whole relay step. This client writes each request as one pre-formatted string and
// reads only what the bench needs from the answer (status, Retry-After, the body length). It speaks plain
// HTTP/1.1 with Content-Length bodies, one request at a time per connection (no pipelining), like node:http's
// keep-alive Agent; anything else it does not understand ends the request with status 0 and the reason.
import net from 'node:net';

const HEADER_END = Buffer.from('\r\n\r\n');
const MAX_HEADER_BYTES = 64 * 1024;

/**
 * A pool of at most `maxSockets` keep-alive connections to `host:port`. `post(path, body)` resolves
 * `{status, retryAfter, at, socketAt}` (`socketAt`: when a connection took the request, so the wait before it is
 * the generator's own queue) or `{status: 0, error, ...}`; it never rejects.
 */
export function createLightHttpPool({ host, port, maxSockets }) {
  const idle = [];
  const waiting = [];
  let open = 0;
  let closed = false;

  const connect = () => {
    open += 1;
    const connection = new Connection(host, port, () => {
      open -= 1;
      const index = idle.indexOf(connection);
      if (index >= 0) idle.splice(index, 1);
      dispatch();
    });
    return connection;
  };

  const release = (connection) => {
    if (closed || !connection.usable) return;
    idle.push(connection);
    dispatch();
  };

  const dispatch = () => {
    while (waiting.length > 0) {
      const connection = idle.pop() ?? (open < maxSockets ? connect() : undefined);
      if (!connection) return;
      const job = waiting.shift();
      job.socketAt = performance.now();
      connection.send(job, release);
    }
  };

  const post = (path, body) =>
    new Promise((resolve) => {
      const head = `POST ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
      waiting.push({ request: head + body, resolve, socketAt: undefined });
      dispatch();
    });

  const close = () => {
    closed = true;
    for (const connection of idle.splice(0)) connection.destroy();
  };
  return { post, close };
}

class Connection {
  #socket;
  #job;
  #release;
  #buffered = Buffer.alloc(0);
  #head;
  usable = true;

  constructor(host, port, onGone) {
    this.#socket = net.connect({ host, port, noDelay: true });
    this.#socket.on('data', (chunk) => this.#onData(chunk));
    this.#socket.on('error', (error) => this.#fail(error.code ?? error.message));
    this.#socket.on('close', () => {
      this.#fail('connection closed');
      onGone();
    });
  }

  send(job, release) {
    this.#job = job;
    this.#release = release;
    this.#socket.write(job.request);
  }

  destroy() {
    this.usable = false;
    this.#socket.destroy();
  }

  #onData(chunk) {
    this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    if (!this.#job) return this.#fail('data without a request');
    if (!this.#head) {
      const end = this.#buffered.indexOf(HEADER_END);
      if (end < 0) return this.#buffered.length > MAX_HEADER_BYTES ? this.#fail('response header too large') : undefined;
      const head = parseHead(this.#buffered.toString('latin1', 0, end));
      if (head.error) return this.#fail(head.error);
      this.#head = head;
      this.#buffered = this.#buffered.subarray(end + HEADER_END.length);
    }
    if (this.#buffered.length < this.#head.contentLength) return;
    if (this.#buffered.length > this.#head.contentLength) return this.#fail('bytes after the response');
    const { status, retryAfter, keepAlive } = this.#head;
    const job = this.#job;
    this.#job = undefined;
    this.#head = undefined;
    this.#buffered = Buffer.alloc(0);
    job.resolve({ status, retryAfter, at: performance.now(), socketAt: job.socketAt });
    if (keepAlive) this.#release(this);
    else this.destroy();
  }

  #fail(reason) {
    this.usable = false;
    const job = this.#job;
    this.#job = undefined;
    if (job) job.resolve({ status: 0, error: reason, at: performance.now(), socketAt: job.socketAt });
    this.#socket.destroy();
  }
}

/** Status line and the three headers the bench uses; chunked bodies and missing lengths are refused. */
function parseHead(text) {
  const lines = text.split('\r\n');
  const match = /^HTTP\/1\.1 (\d{3}) /.exec(`${lines[0]} `);
  if (!match) return { error: `not an HTTP/1.1 status line: ${lines[0].slice(0, 40)}` };
  let contentLength;
  let retryAfter;
  let keepAlive = true;
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index];
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') contentLength = Number(value);
    else if (name === 'retry-after') retryAfter = value;
    else if (name === 'connection' && value.toLowerCase() === 'close') keepAlive = false;
    else if (name === 'transfer-encoding') return { error: `transfer-encoding ${value} is not supported` };
  }
  if (!Number.isInteger(contentLength) || contentLength < 0) return { error: 'response has no Content-Length' };
  return { status: Number(match[1]), contentLength, retryAfter, keepAlive };
}
