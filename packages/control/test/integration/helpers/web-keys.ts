import { webcrypto } from 'node:crypto';

/** A fresh extractable WebCrypto P-256 key pair, for crafting certificates and CSRs with @peculiar/x509 in tests. */
export async function ecKeyPair(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}
