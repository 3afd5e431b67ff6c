// What `dmrctl export` and `dmrctl import` do (loaded when one runs). Progress goes to stderr, the document or the
// diff to stdout.
import { compileValidator, DmrError, describeErrors } from '@dmr/shared';
import { ImportResult, type NormalExportDocument, validateExportDocument } from '../domain/index.js';
import type { ApiRecord } from './api-client/index.js';
import type { ApiFlags } from './api-options.js';
import { emit, withControlClient } from './api-session.js';
import { renderDiff } from './diff-text.js';
import { type DocumentFormat, formatOfPath, readDocumentFile, serialiseDocument, writeDocumentFile } from './document-files.js';
import type { CliContext, CliIo } from './output.js';

/** Time an import may take unless `--timeout-ms` says otherwise: one transaction of many agents is not a read. */
export const IMPORT_TIMEOUT_MS = 300_000;

interface ExportFlags extends Omit<ApiFlags, 'output'> {
  readonly format?: DocumentFormat;
  readonly out?: string;
  readonly force?: true;
}

/** `export`: `GET /v1/export`, written as it came (key order apiVersion, kind first) to stdout or `-o`. */
export async function exportDocument(io: CliIo, context: CliContext, flags: ExportFlags): Promise<void> {
  const format = flags.format ?? (flags.out === undefined ? 'yaml' : formatOfPath(flags.out));
  const document = await withControlClient(context, { ...flags, output: 'json' }, (client) => client.get('v1/export'));
  const text = serialiseDocument(ordered(document), format);
  if (flags.out === undefined) io.out(text);
  else await writeDocumentFile(flags.out, text, flags.force === true);
  const agents = Array.isArray(document.agents) ? document.agents.length : 0;
  const policies = Array.isArray(document.policies) ? document.policies.length : 0;
  const where = flags.out === undefined ? '' : ` to ${flags.out}`;
  io.err(`dmrctl: exported ${agents} agent(s), ${policies} policy version(s) at configVersion ${String(document.configVersion)}${where}\n`);
}

function ordered(document: ApiRecord): ApiRecord {
  const { apiVersion, kind, ...rest } = document;
  return { apiVersion, kind, ...rest };
}

let validateImportResult: ReturnType<typeof compileValidator<ImportResult>> | undefined;

/**
 * `import <file> [--dry-run]`: the document is checked here first (a refusal names every bad field, exit 2), then sent
 * in one `POST /v1/import` (`?dryRun=true` for a dry run, which answers the diff and writes nothing).
 */
export async function importDocument(io: CliIo, context: CliContext, file: string, flags: ApiFlags & { dryRun?: true }): Promise<void> {
  const document = await readImport(io, file);
  const isDryRun = flags.dryRun === true;
  io.err(`dmrctl: ${isDryRun ? 'computing the diff of' : 'importing'} ${file} in one transaction…\n`);
  const startedAt = performance.now();
  const answer = await withControlClient(context, flags, (client) =>
    client.post('v1/import', document, {
      query: isDryRun ? { dryRun: true } : {},
      timeoutMs: flags.timeoutMs ?? IMPORT_TIMEOUT_MS,
    }),
  );
  validateImportResult ??= compileValidator<ImportResult>(ImportResult, 'DMR_CLI_API_RESPONSE_INVALID');
  const result = validateImportResult(answer);
  if (!result.ok) throw new DmrError('DMR_CLI_API_RESPONSE_INVALID', `POST /v1/import answered ${describeErrors(result.errors)}`);
  io.err(`dmrctl: ${isDryRun ? 'dry run' : 'import'} answered in ${((performance.now() - startedAt) / 1000).toFixed(1)} s\n`);
  const names = new Map(document.agents.map((agent) => [agent.id, agent.name]));
  const outcome = result.value.dryRun ? { dryRun: true as const } : { dryRun: false as const, configVersion: result.value.configVersion };
  emit(io, flags.output, result.value, () => renderDiff(result.value.diff, outcome, names));
}

/** Reads and checks an import file. Throws `DMR_CONTROL_DOCUMENT_INVALID` listing every bad field, one per line. */
async function readImport(io: CliIo, file: string): Promise<NormalExportDocument> {
  const { value, bytes } = await readDocumentFile(file);
  const checked = validateExportDocument(value);
  if (!checked.ok) {
    const lines = checked.errors.map((error) => `\n  ${error.path || '(document)'}: ${error.message}`).join('');
    throw new DmrError('DMR_CONTROL_DOCUMENT_INVALID', `${file} is not a valid ControlExport document; nothing was sent:${lines}`);
  }
  const kib = (bytes / 1024).toFixed(1);
  io.err(`dmrctl: read ${file}: ${checked.value.agents.length} agent(s), ${checked.value.policies.length} policy version(s), ${kib} KiB\n`);
  return checked.value;
}
