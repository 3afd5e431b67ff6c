// What a certificate signing request must be before the control plane signs it: a key it accepts and a subject
// naming the identity the request is for, and no other. Pure: the facts are read from the CSR by ca/csr.ts.

import { type CertificateIdentity, DMR_URI_PREFIX, describeIdentity, identityUri } from './identity.js';
import { type CertRefusal, certRefusal } from './refusal.js';

/** The requested public key as Node describes it. */
export interface CsrKeyFacts {
  /** `KeyObject.asymmetricKeyType`: `rsa`, `ec`, `ed25519`, `rsa-pss`, … */
  readonly type: string;
  /** RSA modulus length in bits. */
  readonly rsaBits?: number;
  /** EC curve as Node names it (`prime256v1` is P-256). */
  readonly namedCurve?: string;
}

/** What a CSR says: its key and the names it asks for (which the CA never copies: the profile sets them). */
export interface CsrFacts {
  readonly key: CsrKeyFacts;
  readonly commonNames: readonly string[];
  readonly uris: readonly string[];
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

/** Smallest RSA modulus accepted (bits). */
export const MIN_RSA_BITS = 2048;
/** Largest RSA modulus accepted (bits): beyond it a key costs every peer verifying it without adding security anyone asked for. */
export const MAX_RSA_BITS = 8192;

/** Refuses a key that is not RSA 2048–8192 bits or EC P-256: `DMR_CONTROL_CSR_KEY_UNSUPPORTED` naming `csr`. */
export function checkCsrKey(key: CsrKeyFacts): CertRefusal<'DMR_CONTROL_CSR_KEY_UNSUPPORTED'> | undefined {
  if (key.type === 'rsa') {
    const bits = key.rsaBits ?? 0;
    if (bits >= MIN_RSA_BITS && bits <= MAX_RSA_BITS) return undefined;
    return keyRefusal(`an RSA key of ${bits} bits`);
  }
  if (key.type === 'ec') {
    if (key.namedCurve === 'prime256v1') return undefined;
    return keyRefusal(`an EC key on curve ${key.namedCurve ?? 'unknown'}`);
  }
  return keyRefusal(`a key of type ${key.type}`);
}

function keyRefusal(what: string): CertRefusal<'DMR_CONTROL_CSR_KEY_UNSUPPORTED'> {
  return certRefusal(
    'DMR_CONTROL_CSR_KEY_UNSUPPORTED',
    `the CSR carries ${what}; use RSA (${MIN_RSA_BITS}–${MAX_RSA_BITS} bits) or EC P-256`,
    'csr',
  );
}

/**
 * Refuses a CSR that does not name `identity`, or that also names another DMR identity:
 * `DMR_CONTROL_CSR_SUBJECT_MISMATCH` naming `csr`. A CSR names its identity by its SAN URI (`urn:dmr:agent:<id>`,
 * `urn:dmr:server:<name>`) or its CN (= the id). Agents and the relay user are named by CN too, so every CN they
 * carry must be the id; a server's CN is its DNS name and is not an identity claim. Any `urn:dmr:` URI but the
 * requester's own is a claim to be someone else.
 */
export function checkCsrIdentity(
  facts: CsrFacts,
  identity: CertificateIdentity,
): CertRefusal<'DMR_CONTROL_CSR_SUBJECT_MISMATCH'> | undefined {
  const ownUri = identityUri(identity);
  const foreignUri = facts.uris.find((uri) => uri.toLowerCase().startsWith(DMR_URI_PREFIX) && uri !== ownUri);
  if (foreignUri !== undefined) return identityRefusal(identity, `it names ${foreignUri}`);
  const cnIsId = identity.kind !== 'server';
  const foreignCn = cnIsId ? facts.commonNames.find((cn) => cn !== identity.id) : undefined;
  if (foreignCn !== undefined) return identityRefusal(identity, `its CN is "${foreignCn}"`);
  const isNamed = facts.commonNames.includes(identity.id) || (ownUri !== undefined && facts.uris.includes(ownUri));
  if (!isNamed) return identityRefusal(identity, 'it names nobody (no CN and no SAN URI of the requester)');
  return undefined;
}

function identityRefusal(identity: CertificateIdentity, why: string): CertRefusal<'DMR_CONTROL_CSR_SUBJECT_MISMATCH'> {
  return certRefusal('DMR_CONTROL_CSR_SUBJECT_MISMATCH', `the CSR is not for ${describeIdentity(identity)}: ${why}`, 'csr');
}
