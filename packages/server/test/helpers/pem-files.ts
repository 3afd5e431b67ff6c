// Certificates and keys made at run time for config tests (never committed), served through a fake file system.
import { webcrypto } from 'node:crypto';
import type { ConfigFiles } from '@dmr/server';
import { x509 } from '@dmr/shared/pki';

/** A self-signed EC P-256 certificate and its PKCS#8 key, as PEM. */
export interface PemPair {
  readonly cert: string;
  readonly key: string;
}

/** Makes a throwaway self-signed certificate named `CN=<name>`. */
export async function selfSigned(name: string): Promise<PemPair> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${name}`,
    keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
    signingAlgorithm: algorithm,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { cert: certificate.toString('pem'), key: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}

/** A fake file system holding `files` (path → text); any other path fails like a missing file. */
export function fakeFiles(files: Readonly<Record<string, string>>): ConfigFiles {
  return {
    readFile: (path) => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
      return Buffer.from(text);
    },
  };
}
