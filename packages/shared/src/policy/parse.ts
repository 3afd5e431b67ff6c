import type { PolicyParseResult } from './document.js';

/** Validates a `dmr-policy/v1` document (docs/policy.md); never throws. */
export function parsePolicyDocument(_raw: unknown): PolicyParseResult {
  throw new Error('not implemented');
}

/** Decodes UTF-8 JSON bytes (fatal on bad UTF-8, at most MAX_POLICY_BYTES) and validates the document. */
export function parsePolicyText(_bytes: Uint8Array): PolicyParseResult {
  throw new Error('not implemented');
}
