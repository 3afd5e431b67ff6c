/**
 * Shared pieces of the node:crypto JOSE fast path: base64url, protected-header parsing and the error
 * that sends a caller back to jose for features the fast path deliberately does not implement.
 */

/**
 * Thrown when a JWS/JWE uses something the fast path does not implement (`crit`, `zip`, `b64`, an
 * unknown header member). Callers fall back to jose, which applies the full RFC rules, so behaviour
 * for unusual input stays exactly jose's.
 */
export class UnsupportedJoseFeature extends Error {
  constructor(feature: string) {
    super(`JOSE feature not handled by the fast path: ${feature}`);
    this.name = 'UnsupportedJoseFeature';
  }
}

/** A JOSE protected header as decoded from its base64url form. */
export type JoseHeader = Readonly<Record<string, unknown>>;

/** base64url without padding (RFC 7515 §2). */
export function encodeBase64Url(data: Uint8Array | string): string {
  return (typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength)).toString(
    'base64url',
  );
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Strict base64url decoding: refuses padding and characters outside the alphabet (Buffer would skip them silently). */
export function decodeBase64Url(text: string, what: string): Buffer {
  if (!BASE64URL.test(text) || text.length % 4 === 1) throw new Error(`${what} is not base64url`);
  return Buffer.from(text, 'base64url');
}

/** Decodes and parses a protected header; it must be a JSON object. */
export function decodeHeader(encoded: string, what: string): JoseHeader {
  const parsed: unknown = JSON.parse(decodeBase64Url(encoded, what).toString('utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${what} is not a JSON object`);
  return parsed as JoseHeader;
}

/** Refuses (by falling back to jose) any header member outside `allowed`. */
export function assertOnlyKnownMembers(header: JoseHeader, allowed: ReadonlySet<string>): void {
  for (const name of Object.keys(header)) if (!allowed.has(name)) throw new UnsupportedJoseFeature(`header member "${name}"`);
}

/** `header[name]` when it is a string, else undefined. */
export function stringMember(header: JoseHeader, name: string): string | undefined {
  const value = header[name];
  return typeof value === 'string' ? value : undefined;
}
