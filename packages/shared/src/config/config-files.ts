import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pemCertificates } from '../pki/pem-bundle.js';
import type { EnvReader } from './env-reader.js';

/** File I/O the config check needs; injectable so the check runs in unit tests without files. */
export interface ConfigFiles {
  /** The file's bytes; throws (ENOENT, EACCES, EISDIR …) when it cannot be read. */
  readonly readFile: (path: string) => Buffer;
}

/** Reads from the local file system. */
export const LOCAL_FILES: ConfigFiles = { readFile: (path) => readFileSync(path) };

/** What a configured file must hold; `ca-bundle` is one CA certificate or several concatenated (a CA change-over). */
export type FileKind = 'certificate' | 'ca-bundle' | 'private-key' | 'crl';

/** One file named by an environment variable. */
export interface ConfiguredFile {
  readonly variable: string;
  readonly path: string | undefined;
  readonly kind: FileKind;
}

/**
 * Checks at start that every configured TLS/CRL file can be read and holds what its variable promises
 * (a certificate, a private key matching its certificate, a CRL), and records one problem per bad file
 * naming the variable and the path. Without this, a missing file surfaced as a stack trace from deep in
 * the TLS set-up (issue 15, finding 18) instead of DMR_CONFIG_INVALID with exit code 2. Whether the CRL
 * was signed by the CA is checked when it is loaded (it needs WebCrypto, which is asynchronous).
 */
export function checkConfiguredFiles(read: EnvReader, files: readonly ConfiguredFile[], io: ConfigFiles = LOCAL_FILES): void {
  const parsed: Parsed = { certificates: new Map(), keys: new Map() };
  for (const file of files) {
    if (file.path === undefined) continue;
    const problem = checkFile(file, io, parsed);
    if (problem) read.problem(`${file.variable}: ${problem}`);
  }
  checkKeyPairs(read, files, parsed);
}

interface Parsed {
  readonly certificates: Map<string, X509Certificate>;
  readonly keys: Map<string, KeyObject>;
}

function checkFile(file: ConfiguredFile, io: ConfigFiles, parsed: Parsed): string | undefined {
  let bytes: Buffer;
  try {
    bytes = io.readFile(file.path as string);
  } catch (error) {
    return `cannot read "${file.path}" (${describeIoError(error)})`;
  }
  if (file.kind === 'ca-bundle') return caBundleProblem(file.path as string, bytes.toString('utf8'));
  try {
    if (file.kind === 'certificate') parsed.certificates.set(file.variable, new X509Certificate(bytes));
    else if (file.kind === 'private-key') parsed.keys.set(file.variable, createPrivateKey(bytes));
    else if (!bytes.toString('latin1').includes('-----BEGIN X509 CRL-----') && bytes[0] !== 0x30) return `"${file.path}" holds no CRL`;
  } catch {
    return `"${file.path}" holds no valid ${file.kind === 'certificate' ? 'PEM certificate' : 'private key'}`;
  }
  return undefined;
}

/** Every certificate of the bundle must parse: TLS would otherwise trust fewer CAs than the file names, silently. */
function caBundleProblem(path: string, text: string): string | undefined {
  const certificates = pemCertificates(text);
  if (certificates.length === 0) return `"${path}" holds no PEM certificate`;
  for (const [index, pem] of certificates.entries()) {
    try {
      new X509Certificate(pem);
    } catch {
      return `certificate ${index + 1} of ${certificates.length} in "${path}" is not a valid PEM certificate`;
    }
  }
  return undefined;
}

/** The pairs whose key must belong to the certificate: `<PREFIX>_CERT_FILE` with `<PREFIX>_KEY_FILE`. */
function checkKeyPairs(read: EnvReader, files: readonly ConfiguredFile[], parsed: Parsed): void {
  for (const keyFile of files.filter((file) => file.kind === 'private-key')) {
    const certVariable = keyFile.variable.replace(/_KEY_FILE$/, '_CERT_FILE');
    const key = parsed.keys.get(keyFile.variable);
    const certificate = parsed.certificates.get(certVariable);
    if (certificate === undefined || key === undefined) continue;
    if (!certificate.checkPrivateKey(key)) {
      read.problem(`${keyFile.variable}: "${keyFile.path}" is not the private key of ${certVariable}`);
    }
  }
}

function describeIoError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file',
    EACCES: 'permission denied',
    EISDIR: 'it is a directory',
    ENOTDIR: 'a parent is not a directory',
  };
  return (code && reasons[code]) ?? (error instanceof Error ? error.message : String(error));
}
