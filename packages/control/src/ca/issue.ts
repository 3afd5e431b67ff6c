import type { KeyObject } from 'node:crypto';
import { DmrError } from '@dmr/shared/base';
import {
  generateKeyPair,
  type KeyPair,
  type KeyType,
  privateKeyPem,
  type SigningKey,
  signatureAlgorithmFor,
  signingKeyFromPem,
  toX509PublicKey,
} from './keys.js';
import { caExtensions, type LeafProfile, leafExtensions } from './profiles.js';
import { randomSerial } from './serial.js';
import { x509 } from './x509.js';

/** Default CA lifetime: 10 years. */
export const DEFAULT_CA_VALIDITY_DAYS = 3650;
/** Default leaf lifetime: 397 days, the CA/Browser Forum ceiling, so no client rejects it for length. */
export const DEFAULT_LEAF_VALIDITY_DAYS = 397;
/** notBefore is set this far in the past so a peer whose clock is slightly behind accepts a fresh certificate. */
export const CLOCK_SKEW_MS = 5 * 60_000;

const DAY_MS = 86_400_000;

/** A certificate's validity window. */
export interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** What signs: the CA certificate and its private key as a non-extractable WebCrypto key. */
export interface CaSigner {
  readonly certificate: x509.X509Certificate;
  readonly signingKey: SigningKey;
}

/**
 * The validity window for `days` from `now` (notBefore backdated by {@link CLOCK_SKEW_MS}), or the
 * explicit `window` when given (tests use one in the past). Throws DMR_CA_INVALID_REQUEST for a
 * non-positive day count or an empty window.
 */
export function validityFor(days: number, now: Date, window?: Validity): Validity {
  if (window !== undefined) {
    if (window.notAfter.getTime() <= window.notBefore.getTime()) {
      throw new DmrError('DMR_CA_INVALID_REQUEST', 'notAfter must be later than notBefore');
    }
    return window;
  }
  if (!Number.isInteger(days) || days < 1)
    throw new DmrError('DMR_CA_INVALID_REQUEST', `validity must be a whole number of days ≥ 1, got ${days}`);
  return { notBefore: new Date(now.getTime() - CLOCK_SKEW_MS), notAfter: new Date(now.getTime() + days * DAY_MS) };
}

/**
 * A name holding only a CN, as a UTF8String. The typed-object form matters: @peculiar/x509 runs
 * plain strings (even in JSON form) through its DN-string unescaping, which mangles quotes,
 * backslashes and a leading `#`.
 */
export function cnName(commonName: string): x509.Name {
  return new x509.Name([{ CN: [{ utf8String: commonName }] }]);
}

/** A new CA: a key pair of `keyType` and its self-signed root certificate (SHA-256, serial from {@link randomSerial}). */
export async function createRoot(
  commonName: string,
  keyType: KeyType,
  validity: Validity,
): Promise<{ keys: KeyPair; certificate: x509.X509Certificate }> {
  const keys = generateKeyPair(keyType);
  const signer = await signingKeyFromPem(privateKeyPem(keys.privateKey));
  const publicKey = toX509PublicKey(keys.publicKey);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: cnName(commonName),
    issuer: cnName(commonName),
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    publicKey,
    signingKey: signer,
    signingAlgorithm: signatureAlgorithmFor(signer),
    extensions: await caExtensions(publicKey),
  });
  return { keys, certificate };
}

/** Signs a leaf certificate for `subjectKey` as `profile` describes, with a fresh random serial. */
export async function signLeaf(
  ca: CaSigner,
  profile: LeafProfile,
  subjectKey: KeyObject,
  validity: Validity,
): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: cnName(profile.commonName),
    issuer: ca.certificate.subjectName,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    publicKey: toX509PublicKey(subjectKey),
    signingKey: ca.signingKey,
    signingAlgorithm: signatureAlgorithmFor(ca.signingKey),
    extensions: await leafExtensions(profile, subjectKey, ca.certificate.publicKey),
  });
}
