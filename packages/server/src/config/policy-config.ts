import type { ConfigFiles, EnvReader } from '@dmr/shared';

/** The `DMR_POLICY_ENGINE` names (docs/policy.md "Engines"). */
export const POLICY_ENGINE_NAMES = ['builtin', 'opa', 'opa-wasm'] as const;

/** `DMR_POLICY_WASM_FILE`'s default: the module set-up builds, `.tools/policy/dmr.wasm` of the repository. */
export const DEFAULT_POLICY_WASM_FILE = new URL('../../../../.tools/policy/dmr.wasm', import.meta.url).pathname;

/** Where the policy is read from (docs/policy.md "Lifecycle"). */
export type PolicySourceConfig =
  /** `DMR_POLICY_URL`: a `file://` document or an `https://` URL serving one. */
  | { readonly kind: 'url'; readonly url: string }
  /** dmr-control's `GET {DMR_CONTROL_URL}/v1/policies/latest`. */
  | { readonly kind: 'control'; readonly url: string };

/** The `opa` engine's settings (docs/policy.md "OPA sidecar"). */
export interface OpaSidecarConfig {
  /** `DMR_OPA_URL` (required with `opa`): the sidecar's base URL, http or https. */
  readonly url: string;
  /** `DMR_OPA_TIMEOUT_MS` (default 250): whole-request deadline of one decision. */
  readonly timeoutMs: number;
  /** `DMR_OPA_CACHE_SIZE` (default 10 000; 0 = off): decision cache entries. */
  readonly cacheSize: number;
}

/** The engine and its own settings: only the chosen engine's variables are read. */
export type PolicyEngineConfig =
  | { readonly engine: 'builtin' }
  | { readonly engine: 'opa'; readonly opa: OpaSidecarConfig }
  /** `DMR_POLICY_WASM_FILE` (default {@link DEFAULT_POLICY_WASM_FILE}): the module of deploy/policy/dmr.rego. */
  | { readonly engine: 'opa-wasm'; readonly wasmFile: string };

/** Issue 19: the policy decision point's settings. */
export type PolicyConfig = PolicyEngineConfig & {
  /**
   * `DMR_POLICY_URL` when set, else dmr-control when `DMR_CONTROL_URL` is set, else none (no policy: every message
   * allowed with NO_POLICY, as before policy existed).
   */
  readonly source: PolicySourceConfig | undefined;
};

/**
 * Reads {@link PolicyConfig}; a bad engine name, URL, number or an unreadable wasm module (`files`) is a problem
 * naming the variable.
 */
export function readPolicy(read: EnvReader, controlUrl: string | undefined, files?: ConfigFiles): PolicyConfig {
  const engineText = read.string('DMR_POLICY_ENGINE', 'builtin');
  const isKnown = (POLICY_ENGINE_NAMES as readonly string[]).includes(engineText);
  if (!isKnown) read.problem(`DMR_POLICY_ENGINE must be one of ${POLICY_ENGINE_NAMES.join(', ')}, got "${engineText.slice(0, 64)}"`);
  const policyUrl = read.optionalString('DMR_POLICY_URL') === undefined ? undefined : read.url('DMR_POLICY_URL', ['file:', 'https:']);
  let source: PolicySourceConfig | undefined;
  if (policyUrl !== undefined) source = { kind: 'url', url: policyUrl };
  else if (controlUrl !== undefined) source = { kind: 'control', url: controlUrl };
  const engine = isKnown ? (engineText as PolicyConfig['engine']) : 'builtin';
  return { ...readEngine(read, engine, files), source };
}

function readEngine(read: EnvReader, engine: PolicyConfig['engine'], files: ConfigFiles | undefined): PolicyEngineConfig {
  if (engine === 'opa') {
    const hasUrl = read.optionalString('DMR_OPA_URL') !== undefined;
    if (!hasUrl) read.problem('DMR_OPA_URL is required with DMR_POLICY_ENGINE=opa (the OPA sidecar, e.g. http://127.0.0.1:8181)');
    const url = hasUrl ? read.url('DMR_OPA_URL', ['http:', 'https:']) : '';
    const timeoutMs = read.int('DMR_OPA_TIMEOUT_MS', { default: 250, min: 1, max: 60_000 });
    const cacheSize = read.int('DMR_OPA_CACHE_SIZE', { default: 10_000, min: 0, max: 10_000_000 });
    return { engine, opa: { url, timeoutMs, cacheSize } };
  }
  if (engine === 'opa-wasm') {
    const wasmFile = read.string('DMR_POLICY_WASM_FILE', DEFAULT_POLICY_WASM_FILE);
    const problem = files ? wasmFileProblem(wasmFile, files) : undefined;
    if (problem) read.problem(`DMR_POLICY_WASM_FILE: ${problem}`);
    return { engine, wasmFile };
  }
  return { engine };
}

/** WebAssembly modules start with `\0asm`. */
const WASM_MAGIC = Buffer.from([0x00, 0x61, 0x73, 0x6d]);

function wasmFileProblem(path: string, files: ConfigFiles): string | undefined {
  let bytes: Buffer;
  try {
    bytes = files.readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return `cannot read "${path}" (${code}); scripts/build-policy-wasm.sh builds it from deploy/policy/dmr.rego`;
  }
  return bytes.subarray(0, 4).equals(WASM_MAGIC) ? undefined : `"${path}" is not a WebAssembly module`;
}
