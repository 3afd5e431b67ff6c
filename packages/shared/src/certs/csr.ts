import type { KeyObject, webcrypto } from 'node:crypto';
import { AGENT_URI_PREFIX } from '../crypto/certificate-identity.js';
import { keyKindOf } from '../crypto/keys.js';

/** A key pair as Node KeyObjects (the private half never leaves the process). */
export interface CsrKeys {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

type X509 = typeof import('@peculiar/x509');

// @peculiar/x509 is loaded on the first CSR only: an agent or server that never enrolls nor renews does not pay for it
let x509Module: Promise<X509> | undefined;
function loadX509(): Promise<X509> {
  x509Module ??= import('../pki/x509.js').then((module) => module.x509);
  return x509Module;
}

/**
 * A PKCS#10 CSR (PEM) for a new agent: subject CN = `agentId`, SAN URI `urn:dmr:agent:<agentId>`
 * (docs/control-plane.md, "Identities and roles"), signed by `keys.privateKey` (ECDSA or RSA PKCS#1 v1.5 with
 * SHA-256). Throws DMR_CRYPTO_KEY_INVALID for a key that is neither RSA ≥ 2048 nor EC P-256.
 */
export async function agentEnrollmentCsr(agentId: string, keys: CsrKeys): Promise<string> {
  const x509 = await loadX509();
  const name = new x509.Name([{ CN: [{ utf8String: agentId }] }]);
  const san = new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `${AGENT_URI_PREFIX}${agentId}` }], false);
  return createCsr(x509, name, [san], keys);
}

/**
 * A PKCS#10 CSR (PEM) to renew `certificatePem` with the same key pair: the current certificate's subject and
 * subjectAltName, signed by the current key, so dmr-control issues the same identity for the same public key.
 */
export async function renewalCsr(certificatePem: string, keys: CsrKeys): Promise<string> {
  const x509 = await loadX509();
  const current = new x509.X509Certificate(certificatePem);
  const san = current.getExtension(x509.SubjectAlternativeNameExtension);
  return createCsr(x509, current.subjectName, san ? [san] : [], keys);
}

async function createCsr(x509: X509, name: InstanceType<X509['Name']>, extensions: InstanceType<X509['Extension']>[], keys: CsrKeys) {
  const algorithm =
    keyKindOf(keys.privateKey) === 'rsa' ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : { name: 'ECDSA', namedCurve: 'P-256' };
  const signingAlgorithm = algorithm.name === 'ECDSA' ? { name: 'ECDSA', hash: 'SHA-256' } : algorithm;
  const cryptoKeys = {
    privateKey: await keys.privateKey.toCryptoKey(algorithm, false, ['sign']),
    publicKey: await keys.publicKey.toCryptoKey(algorithm, true, ['verify']),
  } as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name,
    extensions,
    signingAlgorithm,
    keys: cryptoKeys as unknown as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[0]['keys'],
  });
  return csr.toString('pem');
}
