import { createHash } from 'node:crypto';
import { OldestFirst } from '../collections/oldest-first.js';
import { ecdhP256 } from './ecdh-p256.js';
import { decodeBase64Url, encodeBase64Url, type JoseHeader } from './jose-header.js';

/**
 * Key-encryption keys of ECDH-ES+A256KW (RFC 7518 §4.6): the Concat KDF of a P-256 agreement between an ephemeral
 * key and the recipient's static key. Each message still gets its own random content key and IV; what these
 * classes let two messages share is the ephemeral key, and so the key that wraps their content keys.
 */

/** The public JWK of an ephemeral P-256 key, as it goes into the `epk` header member. */
export interface EphemeralPublicJwk {
  readonly kty: 'EC';
  readonly crv: 'P-256';
  readonly x: string;
  readonly y: string;
}

/** A key-encryption key and the `epk` the recipient needs to derive it again. */
export interface SenderKek {
  readonly epk: EphemeralPublicJwk;
  readonly kek: Buffer;
}

const ALGORITHM_ID = 'ECDH-ES+A256KW';
const KEK_BITS = 256;
const COORDINATE_BYTES = 32;
const EMPTY = Buffer.alloc(0);

/** A new ephemeral key agreed with `recipientPoint` (uncompressed P-256); its private half never leaves the backend. */
export function freshSenderKek(recipientPoint: Buffer): SenderKek {
  const { ephemeralPoint, secret } = ecdhP256.ephemeralAgreement(recipientPoint);
  return { epk: jwkOfPoint(ephemeralPoint), kek: concatKdf(secret, KEK_BITS, ALGORITHM_ID, EMPTY, EMPTY) };
}

/** Options of {@link EphemeralKeyReuse}. */
export interface EphemeralKeyReuseOptions {
  /** How long one ephemeral key serves one recipient, ms; 0 = a fresh key for every message. */
  readonly maxAgeMs: number;
  /** Monotonic clock, ms (default `performance.now`). */
  readonly now?: () => number;
}

/**
 * Sender side: one ephemeral key per recipient key for at most `maxAgeMs`, then a new one. An ephemeral key costs
 * a key generation and an agreement (about 80–110 µs on the bench machine) on the sender, and an agreement on the
 * recipient; under load one key serves many messages, so both sides mostly skip that work. What it trades: the
 * messages of one window to one recipient share a key-encryption key, so whoever reads it out of the sender's
 * memory during the window opens all of them instead of one (the recipient's private key opens every message
 * either way); the key is overwritten when its window ends. RFC 7518 §4.6 asks for a new ephemeral key per key
 * agreement: this is a deliberate, bounded departure from it (`maxAgeMs` 0 follows it to the letter), invisible on
 * the wire: the JWEs stay standard. The relay learns nothing new: it sees sender and recipient of every message anyway, and content
 * keys and IVs stay fresh per message. Entries are held per recipient key object, so a rotated recipient key gets
 * a new ephemeral key at once, and an entry goes with its key.
 */
export class EphemeralKeyReuse {
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  readonly #current = new WeakMap<Buffer, { readonly kek: SenderKek; readonly expiresAtMs: number }>();

  constructor(options: EphemeralKeyReuseOptions) {
    this.#maxAgeMs = options.maxAgeMs;
    this.#now = options.now ?? (() => performance.now());
  }

  /** The key-encryption key for a message to `recipientPoint`: the current one while it is young enough, else a fresh one. */
  kekFor(recipientPoint: Buffer): SenderKek {
    // Stryker disable next-line ConditionalExpression,EqualityOperator: at 0 the reuse path expires at once too, so every call still gets a fresh key; this only skips its bookkeeping
    if (this.#maxAgeMs <= 0) return freshSenderKek(recipientPoint);
    const now = this.#now();
    const entry = this.#current.get(recipientPoint);
    if (entry && now < entry.expiresAtMs) return entry.kek;
    if (entry) this.#retire(recipientPoint, entry);
    const kek = freshSenderKek(recipientPoint);
    const fresh = { kek, expiresAtMs: now + this.#maxAgeMs };
    this.#current.set(recipientPoint, fresh);
    // wiped when its window ends even if no further message comes; unref: it never keeps a stopping process alive
    setTimeout(() => this.#retire(recipientPoint, fresh), this.#maxAgeMs).unref();
    return kek;
  }

  /** Forgets `entry` and overwrites its key-encryption key (callers use a KEK synchronously and never keep it). */
  #retire(recipientPoint: Buffer, entry: { readonly kek: SenderKek }): void {
    if (this.#current.get(recipientPoint) === entry) this.#current.delete(recipientPoint);
    entry.kek.kek.fill(0);
  }
}

/** Entries a {@link KeyAgreementCache} keeps per private key by default. */
export const DEFAULT_KEY_AGREEMENT_CACHE_ENTRIES = 1024;

/**
 * Recipient side: key-encryption keys by the `epk` (and `apu`/`apv`) that produced them, per private key, so a
 * sender that reuses its ephemeral key costs one agreement per window instead of one per message. An `epk` enters
 * only after its agreement succeeded, so only points on the curve are ever cached. Bounded: beyond `maxEntries`
 * the oldest entry goes (a flood of fresh `epk`s costs what it costs without the cache, one agreement each).
 */
export class KeyAgreementCache {
  readonly #maxEntries: number;
  readonly #byPrivateKey = new WeakMap<Buffer, { readonly keks: Map<string, Buffer>; readonly oldest: OldestFirst<string> }>();

  constructor(maxEntries = DEFAULT_KEY_AGREEMENT_CACHE_ENTRIES) {
    this.#maxEntries = maxEntries;
  }

  /** The key-encryption key for `header` and the private scalar. Throws when `epk`, `apu` or `apv` is invalid. */
  kekFor(privateScalar: Buffer, header: JoseHeader): Buffer {
    const cacheKey = agreementInputOf(header);
    let entries = this.#byPrivateKey.get(privateScalar);
    const cached = entries?.keks.get(cacheKey);
    if (cached) return cached;
    const kek = deriveKek(privateScalar, header);
    if (!entries) {
      const keks = new Map<string, Buffer>();
      entries = { keks, oldest: new OldestFirst(keks) };
      this.#byPrivateKey.set(privateScalar, entries);
    }
    if (entries.keks.size >= this.#maxEntries) entries.oldest.evict();
    entries.keks.set(cacheKey, kek);
    return kek;
  }
}

/** The key-encryption key for `header` and the private scalar, derived afresh. Throws when `epk`, `apu` or `apv` is invalid. */
export function recipientKek(privateScalar: Buffer, header: JoseHeader): Buffer {
  agreementInputOf(header);
  return deriveKek(privateScalar, header);
}

/** The derivation itself, for a header whose shape `agreementInputOf` accepted. */
function deriveKek(privateScalar: Buffer, header: JoseHeader): Buffer {
  const z = ecdhP256.agreement(privateScalar, pointOfJwk(header.epk));
  return concatKdf(z, KEK_BITS, ALGORITHM_ID, optionalBytes(header.apu, 'apu'), optionalBytes(header.apv, 'apv'));
}

/**
 * Checks the shape of what the agreement reads from `header` (an EC P-256 `epk` with string coordinates, `apu` and
 * `apv` absent or strings) and returns it as one string: '.' is outside base64url, so different inputs never give
 * the same string. The cache looks this up before anything is decoded, so a header the derivation would refuse is
 * refused on a cache hit too; the encodings themselves were checked when the entry was made.
 */
function agreementInputOf(header: JoseHeader): string {
  const epk = header.epk;
  if (typeof epk !== 'object' || epk === null) throw new Error('epk is missing');
  const { kty, crv, x, y } = epk as Record<string, unknown>;
  if (kty !== 'EC' || crv !== 'P-256' || typeof x !== 'string' || typeof y !== 'string') throw new Error('epk is not a P-256 public key');
  // Stryker disable next-line StringLiteral: the defaults only stand for "absent" in the cache key; another constant only splits cache entries
  const { apu = '', apv = '' } = header;
  if (typeof apu !== 'string' || typeof apv !== 'string') throw new Error('apu and apv must be strings');
  return `${x}.${y}.${apu}.${apv}`;
}

/**
 * Concat KDF (NIST SP 800-56A §5.8.1, as profiled by RFC 7518 §4.6.2) with SHA-256: derives `keyBits` of key
 * from the shared secret `z`; AlgorithmID, PartyUInfo and PartyVInfo are length-prefixed, SuppPubInfo is `keyBits`.
 */
export function concatKdf(z: Buffer, keyBits: number, algorithmId: string, apu: Buffer, apv: Buffer): Buffer {
  const otherInfo = Buffer.concat([
    lengthPrefixed(Buffer.from(algorithmId, 'ascii')),
    lengthPrefixed(apu),
    lengthPrefixed(apv),
    uint32(keyBits),
  ]);
  const rounds = Math.ceil(keyBits / 256);
  const output = Buffer.alloc(rounds * 32);
  for (let round = 1; round <= rounds; round++) {
    createHash('sha256')
      .update(uint32(round))
      .update(z)
      .update(otherInfo)
      .digest()
      .copy(output, (round - 1) * 32);
  }
  return output.subarray(0, keyBits / 8);
}

function jwkOfPoint(point: Buffer): EphemeralPublicJwk {
  const x = encodeBase64Url(point.subarray(1, 1 + COORDINATE_BYTES));
  const y = encodeBase64Url(point.subarray(1 + COORDINATE_BYTES));
  return { kty: 'EC', crv: 'P-256', x, y };
}

/** The uncompressed point of an `epk` JWK already checked by `agreementInputOf`; the agreement refuses points off the curve. */
function pointOfJwk(epk: unknown): Buffer {
  const { x, y } = epk as { x: string; y: string };
  const xBytes = decodeBase64Url(x, 'epk.x');
  const yBytes = decodeBase64Url(y, 'epk.y');
  if (xBytes.length !== COORDINATE_BYTES || yBytes.length !== COORDINATE_BYTES) throw new Error('epk coordinates have the wrong length');
  return Buffer.concat([Buffer.of(4), xBytes, yBytes]);
}

function optionalBytes(value: unknown, what: string): Buffer {
  if (value === undefined) return EMPTY;
  // Stryker disable next-line all: agreementInputOf has already refused a non-string apu/apv on every path here
  if (typeof value !== 'string') throw new Error(`${what} is not a string`);
  return decodeBase64Url(value, what);
}

function lengthPrefixed(data: Buffer): Buffer {
  return Buffer.concat([uint32(data.length), data]);
}

function uint32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
}
