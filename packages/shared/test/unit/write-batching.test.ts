import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { coalesceWrites, turnBatchedDestination } from '@dmr/shared';
import { afterEach, describe, expect, it } from 'vitest';

/** A real Writable that records each call to the underlying sink: one entry per `_write`/`_writev`. */
function recordingStream(): { stream: Writable; calls: string[][] } {
  const calls: string[][] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      calls.push([chunk.toString()]);
      callback();
    },
    writev(chunks, callback) {
      calls.push(chunks.map(({ chunk }) => String(chunk)));
      callback();
    },
  });
  return { stream, calls };
}

describe('coalesceWrites', () => {
  it('sends the writes of one event-loop turn to the sink in one call, in order', async () => {
    const { stream, calls } = recordingStream();
    coalesceWrites(stream);
    for (let i = 0; i < 5; i++) stream.write(`m${i}`);
    expect(calls).toEqual([]);
    await nextTurn();
    expect(calls).toEqual([['m0', 'm1', 'm2', 'm3', 'm4']]);
  });

  it('starts a new batch in the next turn, and stays balanced with its users own cork/uncork', async () => {
    const { stream, calls } = recordingStream();
    coalesceWrites(stream);
    coalesceWrites(stream); // idempotent: a second call must not double-cork
    stream.write('a');
    stream.cork();
    stream.write('b');
    stream.uncork();
    await nextTurn();
    stream.write('c');
    await nextTurn();
    expect(calls).toEqual([['a', 'b'], ['c']]);
    expect(stream.writableCorked).toBe(0);
  });

  it('wraps a stream once: a second call leaves its write as the first one made it', () => {
    const { stream } = recordingStream();
    const original = stream.write;
    coalesceWrites(stream);
    const wrapped = stream.write;
    expect(wrapped).not.toBe(original);
    coalesceWrites(stream);
    expect(stream.write).toBe(wrapped);
  });

  it('sends a large write at once, after what was pending, without holding it corked', async () => {
    const { stream, calls } = recordingStream();
    coalesceWrites(stream);
    stream.write('small');
    const large = 'L'.repeat(64 * 1024);
    stream.write(large);
    expect(stream.writableCorked).toBe(0);
    expect(calls).toEqual([['small'], [large]]);
    stream.write('after');
    await nextTurn();
    expect(calls.at(-1)).toEqual(['after']);
    expect(stream.writableCorked).toBe(0);
  });

  it('lets end() flush what is pending', async () => {
    const { stream, calls } = recordingStream();
    coalesceWrites(stream);
    stream.write('x');
    stream.end('y');
    await nextTurn();
    expect(calls.flat()).toEqual(['x', 'y']);
  });
});

describe('turnBatchedDestination', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('writes the lines of one turn together at the end of the turn, and flushSync writes at once', async () => {
    dir = mkdtempSync(join(tmpdir(), 'dmr-log-'));
    const file = join(dir, 'out.log');
    const fd = openSync(file, 'w');
    try {
      const destination = turnBatchedDestination(fd);
      expect(turnBatchedDestination(fd)).toBe(destination);
      destination.write('{"n":1}\n');
      destination.write('{"n":2}\n');
      expect(readFileSync(file, 'utf8')).toBe('');
      await nextTurn();
      expect(readFileSync(file, 'utf8')).toBe('{"n":1}\n{"n":2}\n');
      destination.write('{"n":3}\n');
      destination.flushSync();
      expect(readFileSync(file, 'utf8')).toBe('{"n":1}\n{"n":2}\n{"n":3}\n');
    } finally {
      closeSync(fd);
    }
  });
});
