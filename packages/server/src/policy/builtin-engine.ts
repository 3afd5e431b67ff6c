import { DmrError } from '@dmr/shared';
import {
  type CompiledPolicy,
  compilePolicy,
  decidePolicy,
  type PolicyDecision,
  type PolicyInput,
  parsePolicyDocument,
} from '@dmr/shared/policy';
import type { PolicyData, PolicyEngine } from './policy-engine.js';

/**
 * The default engine (`DMR_POLICY_ENGINE=builtin`): the document compiled into lookup tables by `@dmr/shared/policy`
 * and decided in process, synchronously. `load` parses and compiles the whole document before it swaps the compiled
 * policy in with one assignment, so a message is decided by one version, never by a mix; a document that fails
 * throws DMR_POLICY_INVALID (naming the first bad field) and the last good one stays. Never fails to decide.
 */
export class BuiltinPolicyEngine implements PolicyEngine {
  readonly name = 'builtin' as const;
  #compiled: CompiledPolicy | undefined;

  /** Validates and compiles `data` (undefined: no policy, every message allowed with NO_POLICY), then swaps it in. */
  async load(data: PolicyData | undefined): Promise<void> {
    this.#compiled = data === undefined ? undefined : compileData(data);
  }

  /** The decision of the version in force (pure lookups, no I/O). */
  decide(input: PolicyInput): PolicyDecision {
    return decidePolicy(this.#compiled, input);
  }

  async close(): Promise<void> {
    this.#compiled = undefined;
  }
}

function compileData(data: PolicyData): CompiledPolicy {
  const parsed = parsePolicyDocument(data.document);
  if (!parsed.ok) throw new DmrError('DMR_POLICY_INVALID', `policy version ${data.version} refused: ${parsed.field}: ${parsed.message}`);
  try {
    return compilePolicy(parsed.document, data.version);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DmrError('DMR_POLICY_INVALID', `policy version ${data.version} does not compile: ${reason}`, { cause: error });
  }
}
