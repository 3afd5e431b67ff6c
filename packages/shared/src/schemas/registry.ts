import Type, { type Static } from 'typebox';
import { AgentId } from './common.js';

/**
 * A capability an agent announces (contract addition, issue 16): a short token such as `jwe:RSA-OAEP-256`
 * (`AGENT_CAPABILITIES`). Unknown ones are accepted and ignored.
 */
export const AgentCapability = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9:._+-]{0,63}$' });

/** One agent in the CentOps configuration response (snake_case, as CentOps serves it). */
export const CentOpsAgent = Type.Object({
  id: AgentId,
  name: Type.String(),
  authentication_certificate: Type.String({ minLength: 1 }),
  created_at: Type.String(),
  updated_at: Type.String(),
  /** Optional (issue 16): what the agent supports beyond the seed-003 profile; passed to agents in the agent list. */
  capabilities: Type.Optional(Type.Array(AgentCapability, { maxItems: 16 })),
});

/** CentOps `CENTOPS_CONFIGURATION_URL` response. */
export const CentOpsConfiguration = Type.Object({ response: Type.Array(CentOpsAgent) });

export type CentOpsAgent = Static<typeof CentOpsAgent>;
export type CentOpsConfiguration = Static<typeof CentOpsConfiguration>;
