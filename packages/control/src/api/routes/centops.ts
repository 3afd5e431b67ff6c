import type { AgentRecord } from '../../store/index.js';
import { listAll, type RouteGroup } from '../route-context.js';
import { CentOpsResponse } from '../schemas.js';

/**
 * `GET /centops/configuration` (no certificate: the registry holds only public keys, and dmr-server and a real
 * CentOps client read it as they read CentOps): `{"response":[{id, name, authentication_certificate, created_at,
 * updated_at, capabilities?, institution?, groups?}], "dmr":{"configVersion", "disabled"}}`. Only enabled agents that have a key are listed;
 * `dmr` is an extension seed-003 readers ignore. Agents and version come from one snapshot, so they always match.
 */
export const centOpsRoutes: RouteGroup = async (app, { context }) => {
  app.get(
    '/centops/configuration',
    {
      config: { access: 'public' },
      schema: { tags: ['registry'], summary: 'The agent registry in the CentOps configuration format', response: { 200: CentOpsResponse } },
    },
    async (_request, reply) => {
      const { agents, configVersion } = await context.store().snapshot(async (view) => ({
        agents: await listAll((cursor) => view.agents.list({ limit: 1000, ...(cursor === undefined ? {} : { cursor }) })),
        configVersion: await view.configVersion(),
      }));
      // registry readers compare bodies, not caches: never serve a stale copy from an intermediary
      return reply.header('cache-control', 'no-store').send(centOpsDocument(agents, configVersion));
    },
  );
};

/** The CentOps document of `agents` at `configVersion`. Pure. */
export function centOpsDocument(agents: readonly AgentRecord[], configVersion: number): Record<string, unknown> {
  const listed = agents.filter((agent) => agent.enabled && agent.authenticationCertificate !== null);
  return {
    response: listed.map((agent) => ({
      id: agent.id,
      name: agent.name,
      authentication_certificate: agent.authenticationCertificate,
      created_at: agent.createdAt,
      updated_at: agent.updatedAt,
      ...(agent.capabilities.length > 0 ? { capabilities: agent.capabilities } : {}),
      // issue 19: what the policy reads; members seed-003 readers ignore, left out when empty like capabilities
      ...(agent.institution === '' ? {} : { institution: agent.institution }),
      ...(agent.groups.length > 0 ? { groups: agent.groups } : {}),
    })),
    dmr: { configVersion, disabled: agents.filter((agent) => !agent.enabled).map((agent) => agent.id) },
  };
}
