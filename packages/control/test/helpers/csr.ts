// CSRs for tests: key pairs made with node:crypto, requests signed with @peculiar/x509, exactly as an agent would
// make them (its key never leaves it).

import { generateKeyPairSync, type KeyObject, webcrypto } from 'node:crypto';
import { x509 } from '@dmr/shared/pki';

/** Key types tests need: the accepted ones and the refused ones. */
export type TestKeyType = 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'rsa-1024' | 'ed25519';

/** A node:crypto key pair and its type. */
export interface TestKeyPair {
  readonly type: TestKeyType;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** A fresh key pair of `type`. */
export function testKeyPair(type: TestKeyType = 'ec-p256'): TestKeyPair {
  if (type === 'ec-p256' || type === 'ec-p384') {
    return { type, ...generateKeyPairSync('ec', { namedCurve: type === 'ec-p256' ? 'P-256' : 'P-384' }) };
  }
  if (type === 'ed25519') return { type, ...generateKeyPairSync('ed25519') };
  return { type, ...generateKeyPairSync('rsa', { modulusLength: type === 'rsa-2048' ? 2048 : 1024 }) };
}

/** What the CSR asks for. */
export interface CsrNames {
  readonly cn?: string;
  readonly uris?: readonly string[];
  readonly dnsNames?: readonly string[];
}

const ALGORITHMS: Record<
  TestKeyType,
  {
    key: webcrypto.AlgorithmIdentifier | webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams;
    sign: webcrypto.AlgorithmIdentifier | webcrypto.EcdsaParams;
  }
> = {
  'ec-p256': { key: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } },
  'ec-p384': { key: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' } },
  'rsa-2048': { key: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, sign: { name: 'RSASSA-PKCS1-v1_5' } },
  'rsa-1024': { key: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, sign: { name: 'RSASSA-PKCS1-v1_5' } },
  ed25519: { key: { name: 'Ed25519' }, sign: { name: 'Ed25519' } },
};

/** A PEM CSR for `keys`, signed by its private key, naming `names`. */
export async function makeCsr(keys: TestKeyPair, names: CsrNames): Promise<string> {
  const algorithm = ALGORITHMS[keys.type];
  const privateKey = await webcrypto.subtle.importKey(
    'pkcs8',
    keys.privateKey.export({ type: 'pkcs8', format: 'der' }),
    algorithm.key,
    false,
    ['sign'],
  );
  const publicKey = await webcrypto.subtle.importKey('spki', keys.publicKey.export({ type: 'spki', format: 'der' }), algorithm.key, true, [
    'verify',
  ]);
  const sans = [
    ...(names.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(names.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
  ];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    ...(names.cn === undefined ? {} : { name: new x509.Name([{ CN: [{ utf8String: names.cn }] }]) }),
    keys: { privateKey, publicKey } as unknown as webcrypto.CryptoKeyPair,
    signingAlgorithm: algorithm.sign,
    extensions: sans.length > 0 ? [new x509.SubjectAlternativeNameExtension(sans)] : [],
  } as unknown as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[0]);
  return csr.toString('pem');
}

/**
 * The CSR with one byte of its signed part changed (a letter of the CN): it still parses, but its signature no
 * longer verifies, as when someone alters a request in transit.
 */
export function tamperCsr(pem: string, cn: string): string {
  const der = Buffer.from(new x509.Pkcs10CertificateRequest(pem).rawData);
  const at = der.indexOf(Buffer.from(cn, 'utf8'));
  if (at < 0) throw new Error('the CN is not in the CSR');
  der[at] = (der[at] ?? 0) ^ 0x01;
  return x509.PemConverter.encode(der, 'CERTIFICATE REQUEST');
}
