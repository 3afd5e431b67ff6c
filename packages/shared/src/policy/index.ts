// @dmr/shared/policy: the built-in policy engine's pure core (docs/policy.md). No I/O.

export type { CompiledPolicy } from './compile.js';
export { compilePolicy } from './compile.js';
export { decidePolicy } from './decide.js';
export type { PolicyDiff, PolicyDiffEntry, PolicyDiffOptions } from './diff.js';
export { diffPolicies, MAX_DIFF_DECISIONS, MAX_DIFF_PARTIES, OTHER_TYPE } from './diff.js';
export type {
  PolicyDocument,
  PolicyGroup,
  PolicyParseResult,
  PolicyRule,
  PolicySelector,
  PolicyWindow,
} from './document.js';
export {
  MAX_POLICY_BYTES,
  MAX_POLICY_DESCRIPTION_LENGTH,
  MAX_POLICY_GROUP_DEPTH,
  MAX_POLICY_GROUPS,
  MAX_POLICY_RULES,
  POLICY_FORMAT,
  POLICY_NAME_PATTERN,
} from './document.js';
export type { PolicyExplanation, PolicyRuleExplanation } from './explain.js';
export { explainPolicy } from './explain.js';
export { parsePolicyDocument, parsePolicyText } from './parse.js';
export type { RegoIndex } from './rego-index.js';
export { buildRegoIndex } from './rego-index.js';
export { policyTime } from './time.js';
export * from './types.js';
