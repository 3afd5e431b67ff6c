import { Writable } from 'node:stream';
import type { Socket } from 'socket.io-client';

// Details read off socket.io-client objects and inbound messages for logs and write coalescing.

/** The message's `id` (at most 128 characters) for a log line, when it has a string one. */
export function idOf(message: unknown): string | undefined {
  const id = typeof message === 'object' && message !== null ? (message as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? id.slice(0, 128) : undefined;
}

/** The socket-level cause engine.io-client hands over (`description`), as text. */
export function describeCause(description: unknown): string | undefined {
  if (typeof description === 'object' && description !== null && 'message' in description) return String(description.message);
  return typeof description === 'string' ? description : undefined;
}

/**
 * The TCP/TLS socket under a connected Socket.IO client (engine.io-client's `ws` transport; private fields, so
 * undefined when a future version moves them, which only costs the write coalescing).
 */
export function streamUnder(socket: Socket): Writable | undefined {
  const engine = socket.io.engine as unknown as { transport?: { ws?: { _socket?: unknown } } } | undefined;
  const stream = engine?.transport?.ws?._socket;
  return stream instanceof Writable ? stream : undefined;
}
