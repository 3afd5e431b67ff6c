import type { Writable } from 'node:stream';

const coalesced = new WeakSet<Writable>();

/**
 * Writes at least this big go out at once (after whatever is pending): they gain nothing from sharing a syscall,
 * and holding them corked keeps a copy in the JS heap (a full agent list is ~2 MB with 5000 agents).
 */
const LARGE_WRITE_BYTES = 16 * 1024;

/**
 * Makes the small writes to `stream` in one event-loop turn leave in a single `writev`: the first write of a turn
 * corks the stream and `setImmediate` uncorks it after the turn's I/O callbacks ran. amqplib writes each frame
 * (publish, ack) and Socket.IO each packet with its own write, one syscall apiece (and one TLS record apiece):
 * measured on the bench, a third of dmr-server's CPU went to those syscalls at saturation. Under load a turn
 * carries many messages, so they share one syscall; an idle stream pays one extra `setImmediate` hop (µs).
 * Idempotent; balanced with any cork/uncork pairs of the stream's own users.
 */
export function coalesceWrites(stream: Writable): void {
  if (coalesced.has(stream)) return;
  coalesced.add(stream);
  const write = stream.write;
  let pendingFlush: NodeJS.Immediate | undefined;
  const flush = (): void => {
    pendingFlush = undefined;
    if (stream.writableCorked > 0) stream.uncork();
  };
  stream.write = function coalescingWrite(this: Writable, ...args: Parameters<Writable['write']>): boolean {
    if (sizeOf(args[0]) >= LARGE_WRITE_BYTES) {
      if (pendingFlush) {
        clearImmediate(pendingFlush);
        flush();
      }
    } else if (!pendingFlush && !stream.destroyed && !stream.writableEnded) {
      stream.cork();
      pendingFlush = setImmediate(flush);
    }
    return write.apply(this, args);
  } as Writable['write'];
}

function sizeOf(chunk: unknown): number {
  if (typeof chunk === 'string') return chunk.length;
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}
