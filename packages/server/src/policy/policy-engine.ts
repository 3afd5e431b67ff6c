import type { PolicyDecision, PolicyInput } from '@dmr/shared/policy';

/** Names of `DMR_POLICY_ENGINE` (docs/policy.md "Engines"). */
export type PolicyEngineName = 'builtin' | 'opa' | 'opa-wasm';

/** A policy document and the version it is known by (the control plane's, or the document's own `version`). */
export interface PolicyData {
  readonly version: number;
  /** A document already accepted by `parsePolicyDocument` (docs/policy.md "The policy document"). */
  readonly document: unknown;
}

/**
 * One policy decision point engine. `load` validates and swaps the document in atomically, or throws (a DmrError
 * DMR_POLICY_INVALID) and keeps the last good one; `decide` answers for the version in force and rejects (a DmrError
 * DMR_POLICY_UNAVAILABLE) when it cannot decide, which the router turns into a fail-closed refusal.
 */
export interface PolicyEngine {
  readonly name: PolicyEngineName;
  load(data: PolicyData | undefined): Promise<void>;
  decide(input: PolicyInput): PolicyDecision | Promise<PolicyDecision>;
  close(): Promise<void>;
}
