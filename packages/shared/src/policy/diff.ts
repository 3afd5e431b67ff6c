import type { CompiledPolicy } from './compile.js';
import type { PolicyDecision, PolicyParty, PolicyWeekday } from './types.js';

/** Most registry parties `diffPolicies` compares (all ordered pairs: 2000² = 4 000 000). */
export const MAX_DIFF_PARTIES = 2000;
/** Most decisions (pairs × types × time slices × 2 policies) one diff may cost before it is refused. */
export const MAX_DIFF_DECISIONS = 20_000_000;

/** One sender→recipient pair whose access changes. */
export interface PolicyDiffEntry {
  readonly from: string;
  readonly to: string;
  readonly type: string;
  readonly change: 'gain' | 'lose';
  /** The first time slice (week day, minute of day) at which the change shows. */
  readonly at: { readonly weekday: PolicyWeekday; readonly minuteOfDay: number };
  readonly before: PolicyDecision;
  readonly after: PolicyDecision;
}

/** Which types and times to compare at; absent: every type the policies name plus one other, every time slice. */
export interface PolicyDiffOptions {
  readonly type?: string;
  readonly unixMs?: number;
}

/** The outcome: the changes, or a refusal when the comparison would be too large. */
export type PolicyDiff =
  | { readonly ok: true; readonly entries: readonly PolicyDiffEntry[]; readonly decisions: number }
  | { readonly ok: false; readonly message: string };

/** Lists the pairs of `parties` that gain or lose access going from `oldPolicy` to `newPolicy`. */
export function diffPolicies(
  _oldPolicy: CompiledPolicy | undefined,
  _newPolicy: CompiledPolicy,
  _parties: readonly PolicyParty[],
  _options: PolicyDiffOptions = {},
): PolicyDiff {
  throw new Error('not implemented');
}
