import type { CompiledPolicy } from './compile.js';
import type { PolicyDecision, PolicyInput } from './types.js';

/** Why one rule did or did not match. */
export interface PolicyRuleExplanation {
  readonly index: number;
  readonly id: string;
  readonly effect: 'allow' | 'deny';
  readonly matched: boolean;
  /** Each reason the rule did not match (empty when it matched). */
  readonly mismatches: readonly string[];
}

/** A decision and, for each rule examined in document order up to the deciding one, why it did or did not match. */
export interface PolicyExplanation {
  readonly decision: PolicyDecision;
  readonly rules: readonly PolicyRuleExplanation[];
}

/** Explains a decision for `dmrctl policy test`. */
export function explainPolicy(_compiled: CompiledPolicy | undefined, _input: PolicyInput): PolicyExplanation {
  throw new Error('not implemented');
}
