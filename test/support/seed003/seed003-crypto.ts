// SEED-003 STAND-IN (issue 16): the jose calls seed 003's agents make, as its README and the issue describe them.
// Seed 003's code is not on this machine; these functions reproduce its wire formats so our server and agent can be
// tested against them: an RS256 JWS over `{data}` only (no id/senderId/recipientId/type/timestamp claims), inside an
// RSA-OAEP (SHA-1 OAEP) / A256GCM JWE to a key the recipient imports as PKCS#8 for `RSA-OAEP`; a handshake token with
// `kid` and `sub` but neither `aud` nor `jti`. Keys are generated at run time (see make-fixtures.ts); none is committed.
import { CompactEncrypt, CompactSign, compactDecrypt, compactVerify, importPKCS8, importSPKI, importX509, jwtVerify, SignJWT } from 'jose';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The wire message seed 003's agents send and its server delivers (the server adds `receivedAt`). */
export interface Seed003Wire {
  readonly id: string;
  readonly timestamp: string;
  readonly senderId: string;
  readonly recipientId: string;
  readonly type: string;
  readonly payload: string;
  readonly receivedAt?: string;
}

/** A registry key as seed 003 reads it: a bare SPKI public key, or (listed by DMR) a certificate. */
function importPeerKey(pem: string, alg: 'RS256' | 'RSA-OAEP') {
  return pem.includes('BEGIN CERTIFICATE') ? importX509(pem, alg) : importSPKI(pem, alg);
}

/** Signs `{data}` with RS256 and encrypts the JWS with RSA-OAEP / A256GCM, as a seed-003 agent does. */
export async function seed003Seal(data: unknown, senderPrivatePem: string, recipientKeyPem: string): Promise<string> {
  const jws = await new CompactSign(encoder.encode(JSON.stringify({ data })))
    .setProtectedHeader({ alg: 'RS256' })
    .sign(await importPKCS8(senderPrivatePem, 'RS256'));
  return new CompactEncrypt(encoder.encode(jws))
    .setProtectedHeader({ alg: 'RSA-OAEP', enc: 'A256GCM' })
    .encrypt(await importPeerKey(recipientKeyPem, 'RSA-OAEP'));
}

/**
 * Opens a payload as a seed-003 agent does: its own key imported as PKCS#8 for `RSA-OAEP` (so an RSA-OAEP-256 JWE
 * fails), then the sender's RS256 signature; returns the signed body's `data`. Throws on any failure.
 */
export async function seed003Open(jwe: string, recipientPrivatePem: string, senderKeyPem: string): Promise<unknown> {
  const { plaintext } = await compactDecrypt(jwe, await importPKCS8(recipientPrivatePem, 'RSA-OAEP'));
  const { payload } = await compactVerify(decoder.decode(plaintext), await importPeerKey(senderKeyPem, 'RS256'));
  return (JSON.parse(decoder.decode(payload)) as { data: unknown }).data;
}

/** A seed-003 handshake token: RS256, `kid` and `sub` = agent id, `iat`, `exp` 30 s on; no `aud`, no `jti`. */
export async function seed003Token(agentId: string, privatePem: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', kid: agentId })
    .setSubject(agentId)
    .setIssuedAt()
    .setExpirationTime('30s')
    .sign(await importPKCS8(privatePem, 'RS256'));
}

/** Verifies an agent's handshake token as seed 003's server does (signature and expiry only); the agent id or undefined. */
export async function seed003VerifyToken(token: unknown, keyOf: (agentId: string) => string | undefined): Promise<string | undefined> {
  if (typeof token !== 'string') return undefined;
  const [encodedHeader] = token.split('.');
  try {
    const header = JSON.parse(Buffer.from(encodedHeader ?? '', 'base64url').toString('utf8')) as { kid?: unknown; alg?: unknown };
    const pem = typeof header.kid === 'string' ? keyOf(header.kid) : undefined;
    if (pem === undefined || (header.alg !== 'RS256' && header.alg !== 'ES256')) return undefined;
    const key = pem.includes('BEGIN CERTIFICATE') ? await importX509(pem, header.alg) : await importSPKI(pem, header.alg);
    const { payload } = await jwtVerify(token, key);
    return payload.sub === header.kid ? payload.sub : undefined;
  } catch {
    return undefined;
  }
}
