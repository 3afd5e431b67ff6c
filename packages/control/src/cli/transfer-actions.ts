// What `dmrctl export` and `dmrctl import` do (loaded when one runs). The registry document is dmr-control's
// (`GET /v1/export`, `POST /v1/import`): dmrctl carries it, shows what an import would change, and checks only that a
// file is YAML/JSON holding a document: the API validates every field, in one place. Progress goes to stderr.
import { DmrError } from '@dmr/shared/base';
import type { ApiRecord } from './api-client/index.js';
import type { ApiFlags } from './api-options.js';
import { emit, withControlClient } from './api-session.js';
import { type DiffValues, type ImportAnswer, parseImportAnswer, renderImport } from './diff-text.js';
import { type DocumentFormat, formatOfPath, readDocumentFile, serialiseDocument, writeDocumentFile } from './document-files.js';
import type { CliContext, CliIo } from './output.js';

/** Time an import may take unless `--timeout-ms` says otherwise: one transaction of many agents is not a read. */
export const IMPORT_TIMEOUT_MS = 300_000;

/** What a new agent gets for a field the document leaves out (the API's defaults): for the before → after lines only. */
const AGENT_DEFAULTS: Readonly<Record<string, unknown>> = {
  institution: '',
  contact: '',
  labels: {},
  groups: [],
  authenticationCertificate: null,
  capabilities: [],
  enabled: true,
};

interface ExportFlags extends Omit<ApiFlags, 'output'> {
  readonly format?: DocumentFormat;
  readonly out?: string;
  readonly force?: true;
}

/** `export`: `GET /v1/export`, written as YAML or JSON to stdout or `-o`. */
export async function exportDocument(io: CliIo, context: CliContext, flags: ExportFlags): Promise<void> {
  const format = flags.format ?? (flags.out === undefined ? 'yaml' : formatOfPath(flags.out));
  const document = await withControlClient(context, { ...flags, output: 'json' }, (client) => client.get('v1/export'));
  const text = serialiseDocument(document, format);
  if (flags.out === undefined) io.out(text);
  else await writeDocumentFile(flags.out, text, flags.force === true);
  const agents = Array.isArray(document.agents) ? document.agents.length : 0;
  const policy = typeof document.policy === 'object' && document.policy !== null ? 'the policy' : 'no policy';
  const where = flags.out === undefined ? '' : ` to ${flags.out}`;
  io.err(`dmrctl: exported ${agents} agent(s) and ${policy} at configVersion ${String(document.configVersion)}${where}\n`);
}

type ImportFlags = ApiFlags & { readonly dryRun?: true; readonly prune?: true };

/**
 * `import <file> [--dry-run] [--prune]`: one `POST /v1/import` (`?dryRun=true` answers the diff and writes nothing).
 * A dry run also reads the current registry (`GET /v1/export`) to show each changed field from → to.
 */
export async function importDocument(io: CliIo, context: CliContext, file: string, flags: ImportFlags): Promise<void> {
  const document = await readRegistryFile(io, file);
  const isDryRun = flags.dryRun === true;
  const query = { ...(isDryRun ? { dryRun: true } : {}), ...(flags.prune ? { prune: true } : {}) };
  io.err(
    isDryRun ? `dmrctl: asking dmr-control what importing ${file} would change…\n` : `dmrctl: importing ${file} in one transaction…\n`,
  );
  const startedAt = performance.now();
  const { answer, current } = await withControlClient(context, flags, async (client) => ({
    current: isDryRun ? await client.get('v1/export') : undefined,
    answer: parseImportAnswer(await client.post('v1/import', document, { query, timeoutMs: flags.timeoutMs ?? IMPORT_TIMEOUT_MS })),
  }));
  io.err(`dmrctl: dmr-control answered in ${((performance.now() - startedAt) / 1000).toFixed(1)} s\n`);
  emit(io, flags.output, answer, () => renderImport(answer, current === undefined ? {} : dryRunDetails(current, document, answer)));
}

/** Reads an import file and checks it is a registry document at all (an object with an `agents` list). */
async function readRegistryFile(io: CliIo, file: string): Promise<ApiRecord> {
  const { value, bytes } = await readDocumentFile(file);
  const document = value as { agents?: unknown; policy?: unknown } | null;
  if (typeof document !== 'object' || document === null || Array.isArray(document) || !Array.isArray(document.agents)) {
    throw new DmrError(
      'DMR_CLI_DOCUMENT_INVALID',
      `${file} is not a registry document (an object with an "agents" list); nothing was sent`,
    );
  }
  const policy = typeof document.policy === 'object' && document.policy !== null ? 'a policy' : 'no policy';
  io.err(`dmrctl: read ${file}: ${document.agents.length} agent(s), ${policy}, ${(bytes / 1024).toFixed(1)} KiB\n`);
  return document as ApiRecord;
}

/** The values behind a dry run's field lines, and the agents the document omits (which stay without --prune). */
export function dryRunDetails(current: ApiRecord, desired: ApiRecord, answer: ImportAnswer): { values: DiffValues; unlisted: string[] } {
  const currentAgents = agentsById(current.agents, {});
  const desiredAgents = agentsById(desired.agents, AGENT_DEFAULTS);
  const values: DiffValues = {
    currentAgents,
    desiredAgents,
    currentPolicy: policyDocument(current.policy),
    desiredPolicy: policyDocument(desired.policy),
  };
  const removed = new Set(answer.diff.agents.removed);
  const unlisted = [...currentAgents.keys()].filter((id) => !desiredAgents.has(id) && !removed.has(id));
  return { values, unlisted };
}

function agentsById(list: unknown, defaults: Readonly<Record<string, unknown>>): Map<string, Readonly<Record<string, unknown>>> {
  const entries = Array.isArray(list) ? list.filter((item): item is ApiRecord => typeof item === 'object' && item !== null) : [];
  return new Map(entries.map((entry) => [String(entry.id), { ...defaults, ...entry }]));
}

function policyDocument(policy: unknown): unknown {
  return typeof policy === 'object' && policy !== null ? (policy as ApiRecord).document : undefined;
}
