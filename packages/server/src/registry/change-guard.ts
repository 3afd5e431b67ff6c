import type { DmrErrorCode } from '@dmr/shared';
import type { RegistryDiff, RegistrySnapshot } from './registry-snapshot.js';

/** What a registry change must respect (from `RegistryTrust`). */
export interface ChangeRules {
  /** Accept a registry with no agent (CENTOPS_ALLOW_EMPTY_REGISTRY). */
  readonly allowEmpty: boolean;
  /** Largest share (0–1) of the agents in force one change may remove (CENTOPS_MAX_REMOVED_SHARE). */
  readonly maxRemovedShare: number;
}

/** Verdict on a registry change. */
export type ChangeVerdict = { readonly ok: true } | { readonly ok: false; readonly code: DmrErrorCode; readonly reason: string };

/**
 * Decides whether a valid registry may replace the one in force. The registry is the root of trust for agent keys
 * and the list of who may connect: an empty document, or one that drops most agents at once (a truncated export, a
 * wrong environment, a compromised CentOps), would disconnect the fleet in one sync. Refused unless the operator
 * allowed an empty registry or forced this one change. Agents in `disabled` (dmr-control's `dmr.disabled`) left on
 * purpose and do not count as removed. Pure.
 */
export function judgeRegistryChange(
  previous: RegistrySnapshot | undefined,
  next: RegistrySnapshot,
  diff: RegistryDiff,
  rules: ChangeRules,
  isForced: boolean,
  disabled: ReadonlySet<string> = new Set(),
): ChangeVerdict {
  if (next.size === 0) {
    if (rules.allowEmpty) return { ok: true };
    return { ok: false, code: 'DMR_REGISTRY_EMPTY', reason: 'the agent registry lists no agent (CENTOPS_ALLOW_EMPTY_REGISTRY is not set)' };
  }
  const before = previous?.size ?? 0;
  if (before === 0 || isForced) return { ok: true };
  const removed = diff.removed.filter((agent) => !disabled.has(agent.id)).length;
  const share = removed / before;
  if (share <= rules.maxRemovedShare) return { ok: true };
  return {
    ok: false,
    code: 'DMR_REGISTRY_MASS_REMOVAL',
    reason: `the agent registry would remove ${removed} of ${before} agents at once, more than CENTOPS_MAX_REMOVED_SHARE ${rules.maxRemovedShare}; send SIGHUP to force this change once`,
  };
}
