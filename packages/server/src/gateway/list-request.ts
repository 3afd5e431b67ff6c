import { AGENT_LIST_DELTA_FEATURE, AGENT_LIST_VERSION_FIELD, isAgentListVersion } from '@dmr/shared';

/** What an agent asked for in its handshake: versioned lists, and the version it holds (if any, and well-formed). */
export type ListRequest = { readonly isVersioned: false } | { readonly isVersioned: true; readonly version: string | undefined };

/**
 * Reads the handshake `auth`: `features` must list {@link AGENT_LIST_DELTA_FEATURE}, and `agentListVersion` counts
 * only when it is a well-formed version (anything else is served as "holds no list", i.e. the full list). `auth` is
 * untrusted input; a seed 003 agent sends neither field and gets the unversioned full list.
 */
export function listRequestOf(auth: unknown): ListRequest {
  if (typeof auth !== 'object' || auth === null) return { isVersioned: false };
  const fields = auth as Record<string, unknown>;
  const features = fields.features;
  if (!Array.isArray(features) || !features.includes(AGENT_LIST_DELTA_FEATURE)) return { isVersioned: false };
  const version = fields[AGENT_LIST_VERSION_FIELD];
  return { isVersioned: true, version: isAgentListVersion(version) ? version : undefined };
}
