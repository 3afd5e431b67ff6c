import { readFile } from 'node:fs/promises';
import { DmrError } from '@dmr/shared';
import { buildRegoIndex, type PolicyDecision, type PolicyInput, parsePolicyDocument } from '@dmr/shared/policy';
import { type LoadedPolicy, loadPolicy } from '@open-policy-agent/opa-wasm';
import { readOpaDecision } from './opa-result.js';
import type { PolicyData, PolicyEngine } from './policy-engine.js';

/** The entrypoint `scripts/build-policy-wasm.sh` compiles (`opa build -t wasm -e dmr/decision`). */
const ENTRYPOINT = 'dmr/decision';

/** What the opa-wasm engine needs (the server's config maps DMR_POLICY_WASM_FILE). */
export interface OpaWasmOptions {
  /** The module built from deploy/policy/dmr.rego; set-up writes `.tools/policy/dmr.wasm` (DMR_POLICY_WASM_FILE). */
  readonly wasmFile: string;
}

/**
 * The `opa-wasm` engine (docs/policy.md "Engines"): deploy/policy/dmr.rego compiled to WebAssembly, evaluated in
 * process by @open-policy-agent/opa-wasm, no sidecar and no network hop. `load` validates the document with
 * parsePolicyDocument (a refusal throws DMR_POLICY_INVALID and keeps the last good one), then sets
 * `data.dmr = {policy, policyVersion, index}` (index: buildRegoIndex, the lookups dmr.rego uses) on a fresh instance of the module and swaps it in, so a failure half-way
 * never leaves a half-loaded policy in force. With no document, every message gets NO_POLICY.
 * `decide` is synchronous; an evaluation that fails or answers off-contract throws DMR_POLICY_UNAVAILABLE.
 */
export class OpaWasmEngine implements PolicyEngine {
  readonly name = 'opa-wasm' as const;
  /** The module's bytes; each load instantiates them afresh (a few ms), never touching the instance in force. */
  readonly #wasm: Uint8Array;
  #policy: LoadedPolicy;
  /** Loads started so far: a slower earlier load never replaces a later one. */
  #loads = 0;

  private constructor(wasm: Uint8Array, policy: LoadedPolicy) {
    this.#wasm = wasm;
    this.#policy = policy;
  }

  /** Reads and instantiates the module; throws DMR_POLICY_INVALID when it is missing, not wasm or not dmr.rego's. */
  static async create(options: OpaWasmOptions): Promise<OpaWasmEngine> {
    let bytes: Buffer;
    try {
      bytes = await readFile(options.wasmFile);
    } catch (error) {
      throw invalid(
        `cannot read the policy wasm ${options.wasmFile}: ${(error as Error).message} (scripts/build-policy-wasm.sh builds it)`,
        error,
      );
    }
    const policy = await instantiate(bytes, {}).catch((error: unknown) => {
      throw invalid(`${options.wasmFile}: ${(error as Error).message}`, error);
    });
    if (!Object.hasOwn(policy.entrypoints as object, ENTRYPOINT))
      throw invalid(`${options.wasmFile} has no entrypoint ${ENTRYPOINT} (build it with -e ${ENTRYPOINT})`);
    return new OpaWasmEngine(bytes, policy);
  }

  async load(data: PolicyData | undefined): Promise<void> {
    let dmr = {};
    if (data !== undefined) {
      const parsed = parsePolicyDocument(data.document);
      if (!parsed.ok) throw invalid(`policy version ${data.version} refused: ${parsed.field}: ${parsed.message}`);
      dmr = { policy: data.document, policyVersion: data.version, index: buildRegoIndex(parsed.document) };
    }
    const load = ++this.#loads;
    const policy = await instantiate(this.#wasm, { dmr });
    if (load === this.#loads) this.#policy = policy;
  }

  decide(input: PolicyInput): PolicyDecision {
    let resultSet: unknown;
    try {
      resultSet = this.#policy.evaluate(input, ENTRYPOINT);
    } catch (error) {
      throw new DmrError('DMR_POLICY_UNAVAILABLE', `opa-wasm evaluation failed: ${(error as Error).message}`, { cause: error });
    }
    const first = Array.isArray(resultSet) && resultSet.length === 1 ? (resultSet[0] as { result?: unknown }) : undefined;
    const read = readOpaDecision(first?.result);
    if ('problem' in read) throw new DmrError('DMR_POLICY_UNAVAILABLE', `opa-wasm gave no usable result (${read.problem})`);
    return read.decision;
  }

  async close(): Promise<void> {}
}

/** A fresh instance of the module with `data` set; DMR_POLICY_INVALID when the module or the data is refused. */
async function instantiate(wasm: Uint8Array, data: object): Promise<LoadedPolicy> {
  try {
    const policy = await loadPolicy(wasm);
    policy.setData(data);
    return policy;
  } catch (error) {
    throw invalid(`opa-wasm could not take the policy: ${(error as Error).message}`, error);
  }
}

function invalid(message: string, cause?: unknown): DmrError {
  return new DmrError('DMR_POLICY_INVALID', message, cause === undefined ? undefined : { cause });
}

/** Builds the `opa-wasm` engine from the module file (see OpaWasmEngine). */
export function createOpaWasmEngine(options: OpaWasmOptions): Promise<OpaWasmEngine> {
  return OpaWasmEngine.create(options);
}
