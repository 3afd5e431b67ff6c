import type { CompiledPolicy } from './compile.js';
import type { PolicyDecision, PolicyInput } from './types.js';

/** Decides one message (docs/policy.md "Output"); `undefined` policy → allowed with NO_POLICY, version 0. */
export function decidePolicy(_compiled: CompiledPolicy | undefined, _input: PolicyInput): PolicyDecision {
  throw new Error('not implemented');
}
