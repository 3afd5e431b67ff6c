import { randomBytes } from 'node:crypto';

/**
 * Random bytes handed out from a block drawn from the CSPRNG ahead of use. node:crypto's `randomBytes` costs about
 * 15 µs per call on the bench machine whatever the size (a job object and a trip into OpenSSL each time), and every
 * sealed message needs 44 bytes (content key and IV); one draw of {@link POOL_BYTES} serves about 90 messages.
 * Every byte is handed out once. The same idea as node's own pool behind `crypto.randomUUID`.
 */
export class RandomPool {
  #block: Buffer = Buffer.alloc(0);
  #offset = 0;

  /** `size` fresh random bytes (a view of the pool's block for small sizes: copy it before keeping it long). */
  take(size: number): Buffer {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`cannot take ${size} random bytes`);
    if (size > MAX_POOLED_BYTES) return randomBytes(size);
    if (this.#offset + size > this.#block.length) {
      this.#block = randomBytes(POOL_BYTES);
      this.#offset = 0;
    }
    const bytes = this.#block.subarray(this.#offset, this.#offset + size);
    this.#offset += size;
    return bytes;
  }
}

const POOL_BYTES = 4096;
const MAX_POOLED_BYTES = 256;
