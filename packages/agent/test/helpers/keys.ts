import { generateKeyPairSync } from 'node:crypto';

/** A key pair generated at run time (keys are never committed). */
export interface TestKeys {
  readonly kind: 'rsa' | 'ec';
  readonly privatePem: string;
  readonly publicPem: string;
}

/** Generates an RSA-2048 or EC P-256 key pair as PEM. */
export function generateKeys(kind: 'rsa' | 'ec'): TestKeys {
  const pair =
    kind === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    kind,
    privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
