import type { DmrErrorCode } from '@dmr/shared';

/** Verdict on a registry document's `configVersion`. */
export type VersionVerdict = { readonly ok: true } | { readonly ok: false; readonly code: DmrErrorCode; readonly reason: string };

/**
 * Whether a document at `candidate` may replace the registry in force at `inForce` (undefined: unversioned, as seed 003
 * and a real CentOps serve it). Versions only move forward: an older document (a lagging replica or cache, a replay)
 * is refused, and so is an unversioned one once a versioned one is in force (two sources mixed up). The same version
 * again is accepted (a poll reads what a push already applied). `isForced` (SIGHUP) accepts any. Pure.
 * Code: DMR_REGISTRY_STALE_VERSION.
 */
export function judgeConfigVersion(inForce: number | undefined, candidate: number | undefined, isForced: boolean): VersionVerdict {
  if (isForced || inForce === undefined) return { ok: true };
  if (candidate === undefined) {
    return {
      ok: false,
      code: 'DMR_REGISTRY_STALE_VERSION',
      reason: `the agent registry carries no configVersion while version ${inForce} is in force; send SIGHUP to accept it once`,
    };
  }
  if (candidate >= inForce) return { ok: true };
  return {
    ok: false,
    code: 'DMR_REGISTRY_STALE_VERSION',
    reason: `the agent registry is at configVersion ${candidate}, older than version ${inForce} in force`,
  };
}

/**
 * Whether an announcement of `announced` asks for a re-read, given the version already in force (or, for CRLs, the
 * version of the last announcement a successful re-read followed): only a newer version does. Pure.
 */
export function isNewerVersion(announced: number, inForce: number | undefined): boolean {
  return inForce === undefined || announced > inForce;
}
