import type { EnvReader } from '@dmr/shared';

/** The `DMR_POLICY_ENGINE` names (docs/policy.md "Engines"). */
export const POLICY_ENGINE_NAMES = ['builtin', 'opa', 'opa-wasm'] as const;

/** Where the policy is read from (docs/policy.md "Lifecycle"). */
export type PolicySourceConfig =
  /** `DMR_POLICY_URL`: a `file://` document or an `https://` URL serving one. */
  | { readonly kind: 'url'; readonly url: string }
  /** dmr-control's `GET {DMR_CONTROL_URL}/v1/policies/latest`. */
  | { readonly kind: 'control'; readonly url: string };

/** Issue 19: the policy decision point's settings. */
export interface PolicyConfig {
  /** `DMR_POLICY_ENGINE` (default `builtin`). */
  readonly engine: (typeof POLICY_ENGINE_NAMES)[number];
  /**
   * `DMR_POLICY_URL` when set, else dmr-control when `DMR_CONTROL_URL` is set, else none (no policy: every message
   * allowed with NO_POLICY, as before policy existed).
   */
  readonly source: PolicySourceConfig | undefined;
}

/** Reads {@link PolicyConfig}; a bad engine name or URL is a problem naming the variable. */
export function readPolicy(read: EnvReader, controlUrl: string | undefined): PolicyConfig {
  const engineText = read.string('DMR_POLICY_ENGINE', 'builtin');
  const isKnown = (POLICY_ENGINE_NAMES as readonly string[]).includes(engineText);
  if (!isKnown) read.problem(`DMR_POLICY_ENGINE must be one of ${POLICY_ENGINE_NAMES.join(', ')}, got "${engineText.slice(0, 64)}"`);
  const policyUrl = read.optionalString('DMR_POLICY_URL') === undefined ? undefined : read.url('DMR_POLICY_URL', ['file:', 'https:']);
  let source: PolicySourceConfig | undefined;
  if (policyUrl !== undefined) source = { kind: 'url', url: policyUrl };
  else if (controlUrl !== undefined) source = { kind: 'control', url: controlUrl };
  return { engine: isKnown ? (engineText as PolicyConfig['engine']) : 'builtin', source };
}
