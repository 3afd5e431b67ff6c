// Which sender→recipient pairs gain or lose access between two policy versions, for `dmrctl policy diff`. Pure.

import type { CompiledPolicy } from './compile.js';
import { decidePolicy } from './decide.js';
import { policyTime } from './time.js';
import { POLICY_WEEKDAYS, type PolicyDecision, type PolicyInput, type PolicyParty, type PolicyTime, type PolicyWeekday } from './types.js';

/** Most registry parties `diffPolicies` compares (every ordered pair: 2000 × 1999). */
export const MAX_DIFF_PARTIES = 2000;
/** Most decisions (pairs × types × time slices × 2 policies) one diff may cost before it is refused (bounded time). */
export const MAX_DIFF_DECISIONS = 20_000_000;
/** The type an entry carries for "any message type that no rule of either policy names". */
export const OTHER_TYPE = '*';

/** One sender→recipient pair whose access changes for one message type. */
export interface PolicyDiffEntry {
  readonly from: string;
  readonly to: string;
  /** The message type, or OTHER_TYPE (`*`) for every type no rule names. */
  readonly type: string;
  readonly change: 'gain' | 'lose';
  /** The first time slice (week day and minute of day, local to each document) at which the change shows. */
  readonly at: { readonly weekday: PolicyWeekday; readonly minuteOfDay: number };
  readonly before: PolicyDecision;
  readonly after: PolicyDecision;
}

/**
 * What to compare: one `type` (default: every type either policy names, plus OTHER_TYPE) at one instant `unixMs`
 * (default: every slice of the week the two documents' windows cut, on each document's own clock).
 */
export interface PolicyDiffOptions {
  readonly type?: string;
  readonly unixMs?: number;
}

/** The pairs that change, or a refusal when the comparison would exceed MAX_DIFF_PARTIES or MAX_DIFF_DECISIONS. */
export type PolicyDiff =
  | { readonly ok: true; readonly entries: readonly PolicyDiffEntry[]; readonly decisions: number }
  | { readonly ok: false; readonly message: string };

interface Slice {
  readonly before: PolicyTime;
  readonly after: PolicyTime;
}

/**
 * Lists the ordered pairs of distinct `parties` whose access (allow or not) differs between `oldPolicy` (undefined =
 * no policy: everything allowed) and `newPolicy`, one entry per pair, type and direction, at the first slice where
 * it shows. Refuses, without deciding anything, more than MAX_DIFF_PARTIES parties or more than MAX_DIFF_DECISIONS
 * decisions (then narrow it with `type` and `unixMs`).
 */
export function diffPolicies(
  oldPolicy: CompiledPolicy | undefined,
  newPolicy: CompiledPolicy,
  parties: readonly PolicyParty[],
  options: PolicyDiffOptions = {},
): PolicyDiff {
  if (parties.length > MAX_DIFF_PARTIES) {
    return {
      ok: false,
      message: `the registry holds ${parties.length} agents; policy diff compares at most ${MAX_DIFF_PARTIES} (every ordered pair)`,
    };
  }
  const types = options.type === undefined ? typesNamed(oldPolicy, newPolicy) : [options.type];
  const slices = options.unixMs === undefined ? weekSlices(oldPolicy, newPolicy) : [instant(options.unixMs, oldPolicy, newPolicy)];
  const decisions = parties.length * Math.max(parties.length - 1, 0) * types.length * slices.length * 2;
  if (decisions > MAX_DIFF_DECISIONS) {
    return {
      ok: false,
      message: `comparing ${parties.length} agents over ${types.length} types and ${slices.length} time slices takes ${decisions} decisions; at most ${MAX_DIFF_DECISIONS}: give a type and a time (--type, --at)`,
    };
  }
  const entries: PolicyDiffEntry[] = [];
  for (const sender of parties) {
    for (const recipient of parties) {
      if (sender.id !== recipient.id) diffPair(oldPolicy, newPolicy, { ...sender, certificate: null }, recipient, types, slices, entries);
    }
  }
  return { ok: true, entries, decisions };
}

function diffPair(
  oldPolicy: CompiledPolicy | undefined,
  newPolicy: CompiledPolicy,
  sender: PolicyInput['sender'],
  recipient: PolicyParty,
  types: readonly string[],
  slices: readonly Slice[],
  entries: PolicyDiffEntry[],
): void {
  for (const type of types) {
    const found = new Set<'gain' | 'lose'>();
    for (const slice of slices) {
      const before = decidePolicy(oldPolicy, { sender, recipient, message: { type }, time: slice.before });
      const after = decidePolicy(newPolicy, { sender, recipient, message: { type }, time: slice.after });
      if (before.allow === after.allow) continue;
      const change = after.allow ? 'gain' : 'lose';
      if (found.has(change)) continue;
      found.add(change);
      const at = { weekday: slice.after.weekday, minuteOfDay: slice.after.minuteOfDay };
      entries.push({ from: sender.id, to: recipient.id, type, change, at, before, after });
    }
  }
}

function typesNamed(...policies: (CompiledPolicy | undefined)[]): string[] {
  const types = new Set<string>();
  for (const policy of policies) for (const rule of policy?.document.rules ?? []) for (const type of rule.types ?? []) types.add(type);
  return [...types, OTHER_TYPE];
}

function instant(unixMs: number, oldPolicy: CompiledPolicy | undefined, newPolicy: CompiledPolicy): Slice {
  const after = policyTime(unixMs, newPolicy.timeZone);
  return { before: oldPolicy === undefined ? after : policyTime(unixMs, oldPolicy.timeZone), after };
}

/** Each week day the windows distinguish × each minute a window starts or ends (plus midnight). */
function weekSlices(...policies: (CompiledPolicy | undefined)[]): Slice[] {
  const minutes = new Set<number>([0]);
  let hasDays = false;
  for (const policy of policies) {
    for (const rule of policy?.rules ?? []) {
      if (rule.daysMask !== 127) hasDays = true;
      if (rule.fromMinute >= 0) minutes.add(rule.fromMinute).add(rule.toMinute);
    }
  }
  const days: readonly PolicyWeekday[] = hasDays ? POLICY_WEEKDAYS : ['mon'];
  const sorted = [...minutes].sort((a, b) => a - b);
  return days.flatMap((weekday) =>
    sorted.map((minuteOfDay) => {
      const time = { unixMs: 0, weekday, minuteOfDay };
      return { before: time, after: time };
    }),
  );
}
