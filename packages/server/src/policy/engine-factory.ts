import { DmrError } from '@dmr/shared';
import type { PolicyDecision, PolicyInput } from '@dmr/shared/policy';
import { BuiltinPolicyEngine } from './builtin-engine.js';
import { createOpaSidecarEngine, type OpaSidecarOptions } from './opa-sidecar-engine.js';
import { createOpaWasmEngine } from './opa-wasm-engine.js';
import type { PolicyData, PolicyEngine, PolicyEngineName } from './policy-engine.js';

/**
 * The engine's name and its own settings (the server's config maps DMR_POLICY_ENGINE, DMR_OPA_URL,
 * DMR_OPA_TIMEOUT_MS, DMR_OPA_CACHE_SIZE and DMR_POLICY_WASM_FILE).
 */
export type EngineSettings =
  | { readonly engine: 'builtin' }
  | { readonly engine: 'opa'; readonly opa: OpaSidecarOptions }
  | { readonly engine: 'opa-wasm'; readonly wasmFile: string };

/** Builds one engine, at once or asynchronously (opa-wasm instantiates its module); registered in {@link ENGINE_BUILDERS}. */
export type EngineBuilder = (settings: EngineSettings) => PolicyEngine | Promise<PolicyEngine>;

/** The engines this server is built with, by `DMR_POLICY_ENGINE` name (docs/policy.md "Engines"). */
export const ENGINE_BUILDERS: Readonly<Partial<Record<PolicyEngineName, EngineBuilder>>> = {
  builtin: () => new BuiltinPolicyEngine(),
  opa: (settings) => createOpaSidecarEngine(settingsOf(settings, 'opa').opa),
  'opa-wasm': (settings) => createOpaWasmEngine({ wasmFile: settingsOf(settings, 'opa-wasm').wasmFile }),
};

/** The settings of engine `name`; a builder registered under another name is a programming error. */
function settingsOf<N extends EngineSettings['engine']>(settings: EngineSettings, name: N): Extract<EngineSettings, { engine: N }> {
  if (settings.engine !== name) throw new TypeError(`the ${name} builder got settings of ${settings.engine}`);
  return settings as Extract<EngineSettings, { engine: N }>;
}

/** An engine whose builder is asynchronous: usable once {@link PendingEngine.ready} resolved (the server awaits it at start). */
export class PendingEngine implements PolicyEngine {
  #engine: PolicyEngine | undefined;
  /** Resolves with the engine once built; rejects when building failed (the start fails with it). */
  readonly ready: Promise<PolicyEngine>;

  constructor(
    readonly name: PolicyEngineName,
    building: Promise<PolicyEngine>,
  ) {
    this.ready = building.then((engine) => {
      this.#engine = engine;
      return engine;
    });
    // observed here so a failure is not an unhandled rejection before start() awaits it
    this.ready.catch(() => undefined);
  }

  async load(data: PolicyData | undefined): Promise<void> {
    await (await this.ready).load(data);
  }

  /** Rejects with DMR_POLICY_UNAVAILABLE (fail closed) while the engine is still being built. */
  decide(input: PolicyInput): PolicyDecision | Promise<PolicyDecision> {
    if (!this.#engine) throw new DmrError('DMR_POLICY_UNAVAILABLE', `the ${this.name} policy engine is not built yet`);
    return this.#engine.decide(input);
  }

  async close(): Promise<void> {
    await (await this.ready.catch(() => undefined))?.close();
  }
}

/**
 * The engine `settings.engine` names (a {@link PendingEngine} when its builder is asynchronous). Throws
 * DMR_CONFIG_INVALID, naming DMR_POLICY_ENGINE, for an engine this server is not built with, so the process stops at
 * start with a clear message instead of routing without its policy.
 */
export function createPolicyEngine(settings: EngineSettings, builders = ENGINE_BUILDERS): PolicyEngine {
  const build = builders[settings.engine];
  if (!build) {
    throw new DmrError(
      'DMR_CONFIG_INVALID',
      `DMR_POLICY_ENGINE=${settings.engine} is not built into this server yet; use DMR_POLICY_ENGINE=builtin (the default)`,
    );
  }
  const engine = build(settings);
  return engine instanceof Promise ? new PendingEngine(settings.engine, engine) : engine;
}
