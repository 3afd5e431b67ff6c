import type { PolicyDecision, PolicyReason } from '@dmr/shared/policy';

const RULE_REASONS: ReadonlySet<string> = new Set<PolicyReason>(['ALLOW_RULE', 'DENY_RULE']);
const OTHER_REASONS: ReadonlySet<string> = new Set<PolicyReason>(['DEFAULT_ALLOW', 'DEFAULT_DENY', 'NO_POLICY']);

/**
 * The PolicyDecision in an OPA `result` (Data API body member or wasm result set entry), or a sentence saying why
 * it is not one. Strict, so a Rego that drifted from docs/policy.md fails closed instead of deciding oddly: `allow`
 * must agree with `reason`, `ruleId` is present exactly for *_RULE, `policyVersion` is an integer >= 0 (0 with
 * NO_POLICY) and nothing else is in it. Pure.
 */
export function readOpaDecision(result: unknown): { readonly decision: PolicyDecision } | { readonly problem: string } {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) return { problem: 'no result object' };
  const { allow, reason, ruleId, policyVersion, ...rest } = result as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) return { problem: `unexpected member ${extra[0]}` };
  if (typeof allow !== 'boolean') return { problem: 'allow is not a boolean' };
  if (typeof reason !== 'string' || !(RULE_REASONS.has(reason) || OTHER_REASONS.has(reason)))
    return { problem: `unknown reason ${JSON.stringify(reason)}` };
  if (allow !== (reason === 'ALLOW_RULE' || reason === 'DEFAULT_ALLOW' || reason === 'NO_POLICY'))
    return { problem: `allow ${allow} contradicts ${reason}` };
  if (typeof policyVersion !== 'number' || !Number.isSafeInteger(policyVersion) || policyVersion < 0)
    return { problem: 'policyVersion is not an integer >= 0' };
  if (reason === 'NO_POLICY' && policyVersion !== 0) return { problem: 'NO_POLICY with a policyVersion other than 0' };
  if (RULE_REASONS.has(reason)) {
    if (typeof ruleId !== 'string' || ruleId === '') return { problem: `${reason} without a ruleId` };
    return { decision: { allow, reason: reason as PolicyReason, ruleId, policyVersion } };
  }
  if (ruleId !== undefined) return { problem: `${reason} with a ruleId` };
  return { decision: { allow, reason: reason as PolicyReason, policyVersion } };
}
