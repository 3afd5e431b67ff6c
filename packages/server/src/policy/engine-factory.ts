import { DmrError } from '@dmr/shared';
import { BuiltinPolicyEngine } from './builtin-engine.js';
import type { PolicyEngine, PolicyEngineName } from './policy-engine.js';

/** What an engine may need beyond its name (the OPA engines' settings join here when they are built in). */
export interface EngineSettings {
  readonly engine: PolicyEngineName;
}

/** Builds one engine; registered per name in {@link ENGINE_BUILDERS}. */
export type EngineBuilder = (settings: EngineSettings) => PolicyEngine;

/**
 * The engines this server is built with, by `DMR_POLICY_ENGINE` name. The seam for the OPA engines (docs/policy.md
 * "Engines"): `opa` and `opa-wasm` add their builder here; until then choosing one fails at start.
 */
export const ENGINE_BUILDERS: Readonly<Partial<Record<PolicyEngineName, EngineBuilder>>> = {
  builtin: () => new BuiltinPolicyEngine(),
};

/**
 * The engine `settings.engine` names. Throws DMR_CONFIG_INVALID, naming DMR_POLICY_ENGINE, for an engine this server
 * is not built with, so the process stops at start with a clear message instead of routing without its policy.
 */
export function createPolicyEngine(settings: EngineSettings, builders = ENGINE_BUILDERS): PolicyEngine {
  const build = builders[settings.engine];
  if (!build) {
    throw new DmrError(
      'DMR_CONFIG_INVALID',
      `DMR_POLICY_ENGINE=${settings.engine} is not built into this server yet; use DMR_POLICY_ENGINE=builtin (the default)`,
    );
  }
  return build(settings);
}
