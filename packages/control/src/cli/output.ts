import { readFile } from 'node:fs/promises';
import type { Env } from '@dmr/shared';
import { DmrError } from '@dmr/shared/base';
import type { CertificateSummary, IssuedCertificate } from '../ca/index.js';

/**
 * The CA toolkit, loaded when a command runs rather than when dmrctl starts: it brings @peculiar/x509 (~0.4 s of CPU
 * on the 2-core machine), which `--help`, `--version` and a mistyped command line never need.
 */
export function loadCa(): Promise<typeof import('../ca/index.js')> {
  return import('../ca/index.js');
}

/** Where the CLI writes: a port, so commands never touch process streams directly. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** What a command may read besides its arguments: the environment (RABBITMQ_* for `queues`) and a stop request (SIGINT). */
export interface CliContext {
  readonly env: Env;
  readonly signal?: AbortSignal | undefined;
}

/** A command line that parses but asks for something impossible (`--unset-label x` on an agent without it): exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Reads an input file named on the command line. Throws DMR_CA_IO_FAILED naming it. */
export async function readInputFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new DmrError('DMR_CA_IO_FAILED', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Aligned `label  value` lines. */
export function formatFields(fields: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...fields.map(([label]) => label.length));
  return fields.map(([label, value]) => `  ${label.padEnd(width)}  ${value}\n`).join('');
}

/** What `cert …` and `ca init` print: never key material, only where it went. */
export function formatIssued(title: string, issued: IssuedCertificate): string {
  const fields: [string, string][] = [
    ['serial', issued.serial],
    ['subject', issued.subject],
    ['valid', `${issued.notBefore.toISOString()} → ${issued.notAfter.toISOString()}`],
    ['certificate', `${issued.certificatePath} (0644)`],
  ];
  if (issued.keyPath !== undefined) fields.push(['private key', `${issued.keyPath} (0600)`]);
  return `${title}\n${formatFields(fields)}`;
}

/** What `cert show` prints. */
export function formatSummary(summary: CertificateSummary): string {
  const sans = summary.subjectAltNames.map((name) => `${name.type}:${name.value}`).join(', ');
  return formatFields([
    ['subject', summary.subject],
    ['issuer', summary.issuer],
    ['serial', summary.serial],
    ['not before', summary.notBefore.toISOString()],
    ['not after', summary.notAfter.toISOString()],
    ['SANs', sans || '(none)'],
    ['EKU', summary.extendedKeyUsage.join(', ') || '(none)'],
    ['CA', summary.isCa ? 'yes' : 'no'],
    ['agent id', summary.agentId ?? '(none)'],
    ['key', summary.keyType],
    ['SHA-256', summary.fingerprintSha256],
  ]);
}
