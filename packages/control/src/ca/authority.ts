import type { KeyObject } from 'node:crypto';
import { withFinalNewline } from '@dmr/shared/base';
import {
  emptyCaState,
  type IssuedRecord,
  purposeOf,
  type RevocationReason,
  type RevocationTarget,
  selectForRevocation,
  serialiseCaState,
  withIssued,
  withNextCrlNumber,
  withRevoked,
} from './ca-state.js';
import { saveCaState, withOpenCa } from './ca-store.js';
import { buildCrl, DEFAULT_CRL_VALIDITY_DAYS } from './crl.js';
import { assertAbsent, caPaths, ensureDir, leafPaths, PRIVATE_FILE_MODE, PUBLIC_FILE_MODE, replaceFile, writeNewFile } from './files.js';
import { createRoot, DEFAULT_CA_VALIDITY_DAYS, DEFAULT_LEAF_VALIDITY_DAYS, signLeaf, type Validity, validityFor } from './issue.js';
import { generateKeyPair, type KeyType, privateKeyPem, subjectKeyFromPem } from './keys.js';
import { checkCommonName } from './names.js';
import { assertKindAllowed, type CaPurpose, type LeafProfile } from './profiles.js';
import { normaliseSerial } from './serial.js';

/** Options of {@link initCa}. */
export interface InitCaOptions {
  /** CA directory; created with mode 0700 when missing. */
  readonly dir: string;
  /** Subject CN of the root (1–64 characters). */
  readonly commonName: string;
  /** Default `ec-p256`. */
  readonly keyType?: KeyType;
  /** What the CA issues (see {@link CaPurpose}); default `agents`. A deployment needs one of each. */
  readonly purpose?: CaPurpose;
  /** Default {@link DEFAULT_CA_VALIDITY_DAYS} (10 years). */
  readonly validityDays?: number;
  /** Clock; default now. */
  readonly now?: Date;
}

/** A certificate just written, with its paths and facts. */
export interface IssuedCertificate {
  readonly serial: string;
  readonly subject: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly certificatePem: string;
  readonly certificatePath: string;
  /** Set when the toolkit generated the key pair (written 0600); absent when the operator supplied the public key. */
  readonly keyPath?: string;
}

/** Options for issuing a leaf certificate. */
export interface IssueOptions {
  /** Directory for `<name>.cert.pem` (0644) and `<name>.key.pem` (0600); created 0700 when missing. */
  readonly outDir: string;
  /** File base name; each `issue*` function has a default. */
  readonly name?: string;
  /** Key type of a generated key; default `ec-p256`. Ignored with `publicKeyPem`. */
  readonly keyType?: KeyType;
  /** A PEM public key or CSR: the key pair stays on its owner's machine and no key file is written. */
  readonly publicKeyPem?: string;
  /** Default {@link DEFAULT_LEAF_VALIDITY_DAYS} (397). */
  readonly validityDays?: number;
  /** An explicit window instead of `validityDays` (e.g. one in the past, to test expiry handling). */
  readonly validity?: Validity;
  /** Clock; default now. */
  readonly now?: Date;
}

/**
 * Creates a CA in `options.dir`: `ca.key.pem` (0600), `ca.cert.pem` (0644) and `ca-state.json` (0600).
 * Refuses to touch a directory that already holds any of them (DMR_CA_FILE_EXISTS); may also throw
 * DMR_CA_INVALID_REQUEST and DMR_CA_IO_FAILED.
 */
export async function initCa(options: InitCaOptions): Promise<IssuedCertificate> {
  const paths = caPaths(options.dir);
  const commonName = checkCommonName(options.commonName);
  const validity = validityFor(options.validityDays ?? DEFAULT_CA_VALIDITY_DAYS, options.now ?? new Date());
  await ensureDir(paths.dir);
  await assertAbsent([paths.key, paths.certificate, paths.state]);
  const { keys, certificate } = await createRoot(commonName, options.keyType ?? 'ec-p256', validity);
  // key first: if anything fails later, the directory never holds a certificate without its key
  await writeNewFile(paths.key, privateKeyPem(keys.privateKey), PRIVATE_FILE_MODE);
  await writeNewFile(paths.state, serialiseCaState(emptyCaState(options.purpose)), PRIVATE_FILE_MODE);
  const certificatePem = withFinalNewline(certificate.toString('pem'));
  await writeNewFile(paths.certificate, certificatePem, PUBLIC_FILE_MODE);
  return {
    serial: normaliseSerial(certificate.serialNumber),
    subject: certificate.subject,
    ...validity,
    certificatePem,
    certificatePath: paths.certificate,
  };
}

/**
 * Issues a certificate for `profile` signed by the CA in `caDir`, if the CA's purpose allows that kind
 * (DMR_CA_PURPOSE_MISMATCH otherwise). The issued serial is recorded in the state before any file is written,
 * so every certificate that exists can be revoked. Throws DMR_CA_NOT_FOUND, DMR_CA_KEY_EXPOSED, DMR_CA_STATE_INVALID, DMR_CA_LOCKED,
 * DMR_CA_FILE_EXISTS, DMR_CA_INVALID_REQUEST, DMR_CRYPTO_KEY_INVALID, DMR_CA_IO_FAILED.
 */
export async function issueCertificate(
  caDir: string,
  profile: LeafProfile,
  name: string,
  options: IssueOptions,
): Promise<IssuedCertificate> {
  const paths = caPaths(caDir);
  const files = leafPaths(options.outDir, options.name ?? name);
  const now = options.now ?? new Date();
  const validity = validityFor(options.validityDays ?? DEFAULT_LEAF_VALIDITY_DAYS, now, options.validity);
  const generated = options.publicKeyPem === undefined ? generateKeyPair(options.keyType) : undefined;
  const subjectKey: KeyObject = generated?.publicKey ?? (await subjectKeyFromPem(options.publicKeyPem ?? ''));
  return withOpenCa(paths, async (ca) => {
    assertKindAllowed(purposeOf(ca.state), profile.kind);
    await ensureDir(options.outDir);
    await assertAbsent(generated ? [files.certificate, files.key] : [files.certificate]);
    const certificate = await signLeaf(ca.signer, profile, subjectKey, validity);
    const serial = normaliseSerial(certificate.serialNumber);
    await saveCaState(paths, withIssued(ca.state, issuedRecord(profile, serial, now, validity)));
    if (generated) await writeNewFile(files.key, privateKeyPem(generated.privateKey), PRIVATE_FILE_MODE);
    const certificatePem = withFinalNewline(certificate.toString('pem'));
    await writeNewFile(files.certificate, certificatePem, PUBLIC_FILE_MODE);
    return {
      serial,
      subject: certificate.subject,
      ...validity,
      certificatePem,
      certificatePath: files.certificate,
      ...(generated ? { keyPath: files.key } : {}),
    };
  });
}

function issuedRecord(profile: LeafProfile, serial: string, now: Date, validity: Validity): IssuedRecord {
  return {
    serial,
    kind: profile.kind,
    commonName: profile.commonName,
    ...(profile.agentId === undefined ? {} : { agentId: profile.agentId }),
    issuedAt: now.toISOString(),
    notBefore: validity.notBefore.toISOString(),
    notAfter: validity.notAfter.toISOString(),
  };
}

/**
 * Revokes one serial, or every unrevoked certificate of an agent, recording time and reason in
 * the state. Servers learn of it from the next CRL ({@link publishCrl}). Returns the revoked records.
 * Throws DMR_CA_NOT_ISSUED, DMR_CA_ALREADY_REVOKED, DMR_CA_INVALID_REQUEST, and the open/lock codes.
 */
export async function revokeCertificates(
  caDir: string,
  target: RevocationTarget,
  reason: RevocationReason,
  now: Date = new Date(),
): Promise<IssuedRecord[]> {
  const paths = caPaths(caDir);
  return withOpenCa(paths, async (ca) => {
    const records = selectForRevocation(ca.state, target);
    await saveCaState(
      paths,
      withRevoked(
        ca.state,
        records.map((record) => record.serial),
        reason,
        now,
      ),
    );
    return records;
  });
}

/** Options of {@link publishCrl}. */
export interface PublishCrlOptions {
  /** Where to write the CRL (0644, replaced atomically); default `<caDir>/crl.pem`. */
  readonly outPath?: string;
  /** Days until nextUpdate; default {@link DEFAULT_CRL_VALIDITY_DAYS} (7). */
  readonly nextUpdateDays?: number;
  /** Clock; default now. */
  readonly now?: Date;
}

/** What {@link publishCrl} wrote. */
export interface PublishedCrl {
  readonly path: string;
  readonly crlNumber: number;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly revokedCount: number;
  readonly pem: string;
}

/**
 * Signs a CRL with every revocation so far and the next CRL number, and writes it atomically.
 * thisUpdate is backdated by the clock-skew allowance, because OpenSSL refuses every client while
 * a CRL is "not yet valid". Throws DMR_CA_INVALID_REQUEST and the open/lock codes.
 */
export async function publishCrl(caDir: string, options: PublishCrlOptions = {}): Promise<PublishedCrl> {
  const paths = caPaths(caDir);
  const window = validityFor(options.nextUpdateDays ?? DEFAULT_CRL_VALIDITY_DAYS, options.now ?? new Date());
  const path = options.outPath ?? paths.crl;
  return withOpenCa(paths, async (ca) => {
    const state = withNextCrlNumber(ca.state);
    const crlWindow = { crlNumber: state.crlNumber, thisUpdate: window.notBefore, nextUpdate: window.notAfter };
    const pem = await buildCrl(ca.signer, state.revoked, crlWindow);
    // the number is spent before the file exists: a CRL number is never reused for different content
    await saveCaState(paths, state);
    await replaceFile(path, pem, PUBLIC_FILE_MODE);
    return { path, ...crlWindow, revokedCount: state.revoked.length, pem };
  });
}
