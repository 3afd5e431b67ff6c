// What `dmrctl policy test|diff` do (loaded when one runs): read the files, validate with @dmr/shared/policy, decide.
import { readFile } from 'node:fs/promises';
import { DmrError } from '@dmr/shared/base';
import {
  type CompiledPolicy,
  compilePolicy,
  diffPolicies,
  explainPolicy,
  MAX_POLICY_BYTES,
  type PolicyDiffEntry,
  type PolicyParty,
  type PolicyRuleExplanation,
  parsePolicyDocument,
  parsePolicyText,
  policyTime,
} from '@dmr/shared/policy';
import type { OutputFormat } from './api-options.js';
import { emit } from './api-session.js';
import type { CliIo } from './output.js';
import { readRegistryParties } from './policy-registry.js';
import { renderFields, renderTable } from './table.js';

interface TestFlags {
  readonly policy: string;
  readonly registry: string;
  readonly from: string;
  readonly to: string;
  readonly type: string;
  readonly at?: number;
  readonly output: OutputFormat;
}

interface DiffFlags {
  readonly old: string;
  readonly new: string;
  readonly registry: string;
  readonly type?: string;
  readonly at?: number;
  readonly output: OutputFormat;
}

/** `policy test`: the decision, the rule that made it and why each earlier rule did not match. */
export async function testPolicy(io: CliIo, flags: TestFlags): Promise<void> {
  const policy = await readPolicyFile(flags.policy);
  const parties = await readRegistryParties(flags.registry);
  const sender = partyOf(io, parties, flags.from);
  const recipient = partyOf(io, parties, flags.to);
  const unixMs = flags.at ?? Date.now();
  const time = policyTime(unixMs, policy.timeZone);
  const input = { sender: { ...sender, certificate: null }, recipient, message: { type: flags.type }, time };
  const explanation = explainPolicy(policy, input);
  emit(io, flags.output, { input, ...explanation }, () => {
    const { decision } = explanation;
    const fields: [string, string][] = [
      ['decision', `${decision.allow ? 'allow' : 'deny'} (${decision.reason})`],
      ['rule', decision.ruleId ?? '(none: no rule matched)'],
      ['policy', `version ${decision.policyVersion}, time zone ${policy.timeZone}`],
      [
        'message',
        `${sender.id} → ${recipient.id}, type ${flags.type}, ${time.weekday} ${clock(time.minuteOfDay)} (${new Date(unixMs).toISOString()})`,
      ],
      ['sender groups', explanation.senderGroups.join(', ') || '(none)'],
      ['recipient groups', explanation.recipientGroups.join(', ') || '(none)'],
    ];
    const overridden = decision.reason === 'DENY_RULE';
    return `${renderFields(fields)}\n${renderTable(ruleColumns(overridden), explanation.rules)}`;
  });
}

/** `policy diff`: every pair that gains or loses access. */
export async function diffPolicyFiles(io: CliIo, flags: DiffFlags): Promise<void> {
  const oldPolicy = flags.old === 'none' ? undefined : await readPolicyFile(flags.old);
  const newPolicy = await readPolicyFile(flags.new);
  const parties = await readRegistryParties(flags.registry);
  const diff = diffPolicies(oldPolicy, newPolicy, parties, {
    ...(flags.type === undefined ? {} : { type: flags.type }),
    ...(flags.at === undefined ? {} : { unixMs: flags.at }),
  });
  if (!diff.ok) throw new DmrError('DMR_CLI_DOCUMENT_INVALID', `policy diff refused: ${diff.message}`);
  emit(io, flags.output, { agents: parties.length, decisions: diff.decisions, entries: diff.entries }, () => {
    const gains = diff.entries.filter((entry) => entry.change === 'gain').length;
    const summary = `${gains} pair(s) gain access, ${diff.entries.length - gains} lose it (${parties.length} agents, ${diff.decisions} decisions)\n`;
    return `${summary}${renderTable(DIFF_COLUMNS, diff.entries)}`;
  });
}

/**
 * Reads and validates a policy file: at most MAX_POLICY_BYTES, strict UTF-8; `.json` as JSON, anything else as YAML.
 * Throws DMR_POLICY_INVALID naming the file and the first bad field, DMR_CA_IO_FAILED when it cannot be read.
 */
export async function readPolicyFile(path: string): Promise<CompiledPolicy> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new DmrError('DMR_CA_IO_FAILED', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  const parsed = path.toLowerCase().endsWith('.json') ? parsePolicyText(bytes) : await parseYamlPolicy(bytes, path);
  if (!parsed.ok) {
    const field = parsed.field === '' || parsed.message.includes(parsed.field) ? '' : `${parsed.field}: `;
    throw new DmrError('DMR_POLICY_INVALID', `${path}: ${field}${parsed.message}`);
  }
  return compilePolicy(parsed.document, parsed.document.version ?? 0);
}

async function parseYamlPolicy(bytes: Uint8Array, path: string): Promise<ReturnType<typeof parsePolicyDocument>> {
  if (bytes.byteLength > MAX_POLICY_BYTES) return parsePolicyText(bytes);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, field: '', message: 'the policy is not valid UTF-8 text' };
  }
  const { parseDocument } = await import('./document-files.js');
  return parsePolicyDocument(parseDocument(text, 'yaml', path));
}

function partyOf(io: CliIo, parties: readonly PolicyParty[], id: string): PolicyParty {
  const party = parties.find((candidate) => candidate.id === id);
  if (party !== undefined) return party;
  io.err(`dmrctl: ${id} is not in the registry: taken as an agent without institution or groups\n`);
  return { id, institution: '', groups: [] };
}

function ruleColumns(isDenyDecision: boolean) {
  return [
    { header: 'rule', value: (row: PolicyRuleExplanation) => `rules.${row.index}` },
    { header: 'id', value: (row: PolicyRuleExplanation) => row.id },
    { header: 'effect', value: (row: PolicyRuleExplanation) => row.effect },
    {
      header: 'matched',
      value: (row: PolicyRuleExplanation) => (!row.matched ? 'no' : isDenyDecision && row.effect === 'allow' ? 'yes (deny wins)' : 'yes'),
    },
    { header: 'why not', value: (row: PolicyRuleExplanation) => row.mismatches.join('; ') },
  ];
}

const DIFF_COLUMNS = [
  { header: 'from', value: (row: PolicyDiffEntry) => row.from },
  { header: 'to', value: (row: PolicyDiffEntry) => row.to },
  { header: 'type', value: (row: PolicyDiffEntry) => row.type },
  { header: 'change', value: (row: PolicyDiffEntry) => row.change },
  { header: 'at', value: (row: PolicyDiffEntry) => `${row.at.weekday} ${clock(row.at.minuteOfDay)}` },
  { header: 'before', value: (row: PolicyDiffEntry) => describe(row.before) },
  { header: 'after', value: (row: PolicyDiffEntry) => describe(row.after) },
];

function describe(decision: PolicyDiffEntry['before']): string {
  return decision.ruleId === undefined ? decision.reason : `${decision.reason} ${decision.ruleId}`;
}

function clock(minuteOfDay: number): string {
  return `${String(Math.floor(minuteOfDay / 60)).padStart(2, '0')}:${String(minuteOfDay % 60).padStart(2, '0')}`;
}
