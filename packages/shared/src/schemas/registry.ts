import Type, { type Static } from 'typebox';
import { AgentId } from './common.js';

/**
 * A capability an agent announces (contract addition, issue 16): a short token such as `jwe:RSA-OAEP-256`
 * (`AGENT_CAPABILITIES`). Unknown ones are accepted and ignored.
 */
export const AgentCapability = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9:._+-]{0,63}$' });

/** A registry group name (as dmr-control's agent groups and policy group names): the agent id alphabet plus `.` and `:`. */
export const REGISTRY_GROUP_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$';
/** Most groups one registry entry may list. */
export const MAX_REGISTRY_GROUPS = 64;

/** One agent in the CentOps configuration response (snake_case, as CentOps serves it). */
export const CentOpsAgent = Type.Object({
  id: AgentId,
  name: Type.String(),
  authentication_certificate: Type.String({ minLength: 1 }),
  created_at: Type.String(),
  updated_at: Type.String(),
  /** Optional (issue 16): what the agent supports beyond the seed-003 profile; passed to agents in the agent list. */
  capabilities: Type.Optional(Type.Array(AgentCapability, { maxItems: 16 })),
  /** Optional (issue 19, docs/policy.md "Input"): the agent's institution, read by the policy; `''` when absent. */
  institution: Type.Optional(Type.String({ maxLength: 256 })),
  /** Optional (issue 19): the agent's registry groups, read by the policy; `[]` when absent. */
  groups: Type.Optional(Type.Array(Type.String({ pattern: REGISTRY_GROUP_PATTERN }), { maxItems: MAX_REGISTRY_GROUPS })),
});

/** Largest agent count `dmr.disabled` may list (the registry itself is bounded by its byte size). */
export const MAX_DISABLED_AGENTS = 100_000;

/**
 * The `dmr` member dmr-control adds to the CentOps document (issue 18, docs/control-plane.md): the `configVersion`
 * the document was read at (monotonic; a server refuses an older one than it runs) and the ids of disabled agents
 * (not in `response`; a message to one is refused with DMR_ROUTE_RECIPIENT_DISABLED, its handshake with
 * DMR_AUTH_AGENT_DISABLED). Seed-003 readers ignore the member; documents without it stay valid.
 */
export const DmrRegistryExtension = Type.Object({
  configVersion: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  disabled: Type.Optional(Type.Array(AgentId, { maxItems: MAX_DISABLED_AGENTS })),
});

/** CentOps `CENTOPS_CONFIGURATION_URL` response, with dmr-control's optional `dmr` member. */
export const CentOpsConfiguration = Type.Object({ response: Type.Array(CentOpsAgent), dmr: Type.Optional(DmrRegistryExtension) });

export type CentOpsAgent = Static<typeof CentOpsAgent>;
export type DmrRegistryExtension = Static<typeof DmrRegistryExtension>;
export type CentOpsConfiguration = Static<typeof CentOpsConfiguration>;
