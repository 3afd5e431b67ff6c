import { DmrError } from '@dmr/shared';
import type { PolicyDecision, PolicyInput } from '@dmr/shared/policy';
import { BuiltinPolicyEngine } from './builtin-engine.js';
import type { PolicyData, PolicyEngine, PolicyEngineName } from './policy-engine.js';

/** What an engine may need beyond its name (the OPA engines' settings, DMR_OPA_*, join here when they are built in). */
export interface EngineSettings {
  readonly engine: PolicyEngineName;
}

/** Builds one engine, at once or asynchronously (opa-wasm instantiates its module); registered in {@link ENGINE_BUILDERS}. */
export type EngineBuilder = (settings: EngineSettings) => PolicyEngine | Promise<PolicyEngine>;

/**
 * The engines this server is built with, by `DMR_POLICY_ENGINE` name. The seam for the OPA engines (docs/policy.md
 * "Engines"): `opa` and `opa-wasm` add their builder here; until then choosing one fails at start.
 */
export const ENGINE_BUILDERS: Readonly<Partial<Record<PolicyEngineName, EngineBuilder>>> = {
  builtin: () => new BuiltinPolicyEngine(),
};

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
