import Type, { type Static } from 'typebox';
import { AgentId } from './common.js';

/** One agent in the CentOps configuration response (snake_case, as CentOps serves it). */
export const CentOpsAgent = Type.Object({
  id: AgentId,
  name: Type.String(),
  authentication_certificate: Type.String({ minLength: 1 }),
  created_at: Type.String(),
  updated_at: Type.String(),
});

/** CentOps `CENTOPS_CONFIGURATION_URL` response. */
export const CentOpsConfiguration = Type.Object({ response: Type.Array(CentOpsAgent) });

export type CentOpsAgent = Static<typeof CentOpsAgent>;
export type CentOpsConfiguration = Static<typeof CentOpsConfiguration>;
