// `dmrctl audit verify|prove|consistency`: offline, reading the control plane's database directly (like the offline
// CA commands), so an auditor can check the log with nothing running and without trusting dmr-control.

import { Command, Option } from '@commander-js/extra-typings';
import { DmrError } from '@dmr/shared/base';
import type { SignedTreeHead } from '../audit/index.js';
import type { AuditLogStore } from '../store/index.js';
import { CONTROL_DATABASE_URL_ENV, DEFAULT_CONTROL_DATABASE_URL } from '../store/open-options.js';
import { type CliContext, type CliIo, readInputFile } from './output.js';

const positiveInt = (name: string) => (value: string) => {
  if (!/^[1-9][0-9]{0,15}$/.test(value)) throw new DmrError('DMR_CONFIG_INVALID', `${name} must be a positive integer, got "${value}"`);
  return Number(value);
};

function databaseOption() {
  return new Option(
    '--database <url>',
    `the control database (sqlite:<path> or postgres://…); default $${CONTROL_DATABASE_URL_ENV} or ${DEFAULT_CONTROL_DATABASE_URL}`,
  );
}

// Kysely, the database drivers, pino and node:crypto's X.509 are loaded when an audit command runs, never for --help
// or other commands (cli-startup.test.ts).
function loadAudit(): Promise<typeof import('../audit/index.js')> {
  return import('../audit/index.js');
}

async function withStore<T>(url: string | undefined, context: CliContext, fn: (store: AuditLogStore) => Promise<T>): Promise<T> {
  const [{ createLogger }, { openAuditLogStore }] = await Promise.all([import('@dmr/shared'), import('../store/index.js')]);
  const log = createLogger({ name: 'dmrctl', level: 'silent' });
  const store = await openAuditLogStore(url ?? context.env[CONTROL_DATABASE_URL_ENV] ?? DEFAULT_CONTROL_DATABASE_URL, { log });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** The `audit` command group. */
export function auditCommand(io: CliIo, context: CliContext): Command {
  const audit = new Command('audit').description(
    'the tamper-evident audit log (offline, reads the control database): verify, prove, consistency',
  );
  audit.addCommand(verifyCommand(io, context));
  audit.addCommand(proveCommand(io, context));
  audit.addCommand(consistencyCommand(io, context));
  return audit;
}

function verifyCommand(io: CliIo, context: CliContext) {
  return new Command('verify')
    .description(
      'recompute every leaf and root, check every signed head against the CA; exit 1 naming the first altered, removed or reordered entry or forged head',
    )
    .addOption(databaseOption())
    .requiredOption('--ca-file <pem>', 'the CA certificates (PEM bundle) the audit signing certificates must be issued by')
    .option('--from <seq>', 'first entry checked in full', positiveInt('--from'))
    .option('--to <seq>', 'last entry checked', positiveInt('--to'))
    .option('--json', 'print the report as JSON')
    .action(async (options) => {
      const { parseCaBundle, verifyAuditLog } = await loadAudit();
      const trustedCas = parseCaBundle(await readInputFile(options.caFile));
      if (trustedCas.length === 0) throw new DmrError('DMR_CONFIG_INVALID', `${options.caFile} holds no certificate`);
      const report = await withStore(options.database, context, async (store) =>
        verifyAuditLog({ entries: store.entries(), heads: await store.heads(), trustedCas, from: options.from, to: options.to }),
      );
      if (options.json === true) io.out(`${JSON.stringify(report)}\n`);
      else if (report.ok) {
        io.out(
          `audit log verified: ${report.entriesChecked} entries, ${report.headsChecked} signed heads, signed size ${report.verifiedSize}\n`,
        );
      }
      if (!report.ok) throw new DmrError('DMR_AUDIT_VERIFY_FAILED', report.finding?.message ?? 'the audit log does not verify');
    });
}

function proveCommand(io: CliIo, context: CliContext) {
  return new Command('prove')
    .description('print the inclusion proof of one event against the latest signed head, as JSON')
    .argument('<eventId>')
    .addOption(databaseOption())
    .action(async (eventId, options) => {
      const { proveInclusion } = await loadAudit();
      const proof = await withStore(options.database, context, async (store) => {
        const entry = await store.entryByEventId(eventId);
        if (entry === undefined) throw new DmrError('DMR_AUDIT_NOT_FOUND', `no audit entry has eventId ${eventId}`);
        const head = (await store.heads()).at(-1);
        if (head === undefined || head.size < entry.seq) {
          throw new DmrError('DMR_AUDIT_NOT_FOUND', `entry seq ${entry.seq} is not covered by a signed head yet`);
        }
        return proveInclusion(await store.leafHashes(head.size), entry.seq, eventId, head);
      });
      io.out(`${JSON.stringify(proof, null, 2)}\n`);
      if (!proof.verified) throw new DmrError('DMR_AUDIT_VERIFY_FAILED', 'the inclusion proof does not verify against the signed head');
    });
}

function consistencyCommand(io: CliIo, context: CliContext) {
  return new Command('consistency')
    .description('print the consistency proof between two signed heads (by size), as JSON')
    .requiredOption('--old <size>', 'size of the older signed head', positiveInt('--old'))
    .requiredOption('--new <size>', 'size of the newer signed head', positiveInt('--new'))
    .addOption(databaseOption())
    .action(async (options) => {
      if (options.old > options.new) throw new DmrError('DMR_CONFIG_INVALID', '--old must not be larger than --new');
      const { proveConsistency } = await loadAudit();
      const proof = await withStore(options.database, context, async (store) => {
        const heads = await store.heads();
        const oldHead = headOfSize(heads, options.old);
        const newHead = headOfSize(heads, options.new);
        return proveConsistency(await store.leafHashes(newHead.size), oldHead, newHead);
      });
      io.out(`${JSON.stringify(proof, null, 2)}\n`);
      if (!proof.verified)
        throw new DmrError('DMR_AUDIT_VERIFY_FAILED', 'the consistency proof does not verify between the two signed heads');
    });
}

function headOfSize(heads: readonly SignedTreeHead[], size: number): SignedTreeHead {
  const head = heads.find((h) => h.size === size);
  if (head === undefined)
    throw new DmrError('DMR_AUDIT_NOT_FOUND', `no signed head of size ${size} (sizes: ${heads.map((h) => h.size).join(', ') || 'none'})`);
  return head;
}
