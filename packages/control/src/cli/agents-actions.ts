// What the `dmrctl agents …` commands do (loaded when one runs).

import { type AgentCreateFlags, type AgentUpdateFlags, agentCreateBody, agentPatchBody, isEmptyUpdate } from './agent-edit.js';
import { type ApiRecord, type ControlClient, etagOf, PAGE_SIZE, type Tagged } from './api-client/index.js';
import type { ApiFlags } from './api-options.js';
import { emit, pageProgress, withControlClient } from './api-session.js';
import { type CliContext, type CliIo, readInputFile, UsageError } from './output.js';
import { AGENT_COLUMNS, agentFields } from './record-views.js';
import { renderTable } from './table.js';

const agentPath = (id: string) => `v1/agents/${encodeURIComponent(id)}`;

type ListFlags = ApiFlags & {
  readonly enabled?: true;
  readonly disabled?: true;
  readonly group?: string;
  readonly label?: string;
  readonly namePrefix?: string;
  readonly enrolled?: true;
  readonly notEnrolled?: true;
};

/** `agents list`: every page with the API's filters; JSON `{items}`. */
export async function listAgents(io: CliIo, context: CliContext, flags: ListFlags): Promise<void> {
  const agents = await withControlClient(context, flags, (client) =>
    client.list('v1/agents', { query: agentQuery(flags), onPage: pageProgress(io, 'agents', PAGE_SIZE) }),
  );
  emit(io, flags.output, { items: agents }, () => renderTable(AGENT_COLUMNS, agents));
}

/** The query of `GET /v1/agents` for the list flags (absent flags, absent parameters). */
export function agentQuery(flags: ListFlags): Record<string, string | boolean | undefined> {
  return {
    enabled: flags.enabled ? true : flags.disabled ? false : undefined,
    group: flags.group,
    label: flags.label,
    namePrefix: flags.namePrefix,
    hasKey: flags.enrolled ? true : flags.notEnrolled ? false : undefined,
  };
}

/** `agents get <id>`. */
export async function getAgent(io: CliIo, context: CliContext, id: string, flags: ApiFlags): Promise<void> {
  const agent = await withControlClient(context, flags, (client) => client.get(agentPath(id)));
  emit(io, flags.output, agent, () => agentFields(agent));
}

/** `agents create`. */
export async function createAgent(
  io: CliIo,
  context: CliContext,
  flags: AgentCreateFlags & ApiFlags & { certificateFile?: string },
): Promise<void> {
  if (flags.name === undefined) throw new UsageError('--name is required');
  const certificate = flags.certificateFile === undefined ? undefined : await readInputFile(flags.certificateFile);
  const agent = await withControlClient(context, flags, (client) => client.post('v1/agents', agentCreateBody(flags, certificate)));
  emit(io, flags.output, agent, () => `created agent ${String(agent.id)}\n${agentFields(agent)}`);
}

type UpdateFlags = AgentUpdateFlags & ApiFlags & { certificateFile?: string; revision?: number };

/** `agents update <id>`: GET (ETag), edit, PATCH with If-Match; a conflict is the API's 412. */
export async function updateAgent(io: CliIo, context: CliContext, id: string, flags: UpdateFlags): Promise<void> {
  const certificate = flags.certificateFile === undefined ? undefined : await readInputFile(flags.certificateFile);
  if (isEmptyUpdate(flags, certificate !== undefined)) throw new UsageError('nothing to change: name at least one field (see --help)');
  await withControlClient(context, flags, async (client) => {
    const current = await client.getTagged(agentPath(id));
    const patch = agentPatchBody(current.value, flags, certificate);
    await applyPatch(io, client, current, patch, ifMatch(current.etag, flags.revision), flags);
  });
}

/** `agents disable|enable <id>`. */
export async function setAgentEnabled(
  io: CliIo,
  context: CliContext,
  id: string,
  enabled: boolean,
  flags: ApiFlags & { revision?: number },
): Promise<void> {
  await withControlClient(context, flags, async (client) => {
    const current = await client.getTagged(agentPath(id));
    const patch = (current.value.enabled !== false) === enabled ? {} : { enabled };
    await applyPatch(io, client, current, patch, ifMatch(current.etag, flags.revision), flags);
  });
}

/** Sends the PATCH, or nothing when `patch` is empty (the agent already is as asked). */
async function applyPatch(
  io: CliIo,
  client: ControlClient,
  current: Tagged<ApiRecord>,
  patch: Record<string, unknown>,
  etag: string,
  flags: ApiFlags,
): Promise<void> {
  const id = String(current.value.id);
  if (Object.keys(patch).length === 0) {
    emit(io, flags.output, current.value, () => `agent ${id} already is as asked: nothing written\n`);
    return;
  }
  const updated = await client.patch(agentPath(id), patch, etag);
  const fields = Object.keys(patch).join(', ');
  emit(io, flags.output, updated.value, () => `updated agent ${id} (${fields}), now revision ${String(updated.value.revision)}\n`);
}

function ifMatch(readEtag: string, revision: number | undefined): string {
  return revision === undefined ? readEtag : etagOf(revision);
}

/** `agents delete <id>`. */
export async function deleteAgent(io: CliIo, context: CliContext, id: string, flags: ApiFlags & { revision?: number }): Promise<void> {
  const deleted = await withControlClient(context, flags, async (client) => {
    const current = await client.getTagged(agentPath(id));
    await client.delete(agentPath(id), ifMatch(current.etag, flags.revision));
    return current.value;
  });
  emit(io, flags.output, { deleted: id, revision: deleted.revision }, () => `deleted agent ${id}\n`);
}

/** `agents token <id>`: the token on stdout, once; the warning on stderr, so `token=$(dmrctl …)` captures only the token. */
export async function makeToken(io: CliIo, context: CliContext, id: string, flags: ApiFlags): Promise<void> {
  const issued = await withControlClient(context, flags, (client) => client.post(`${agentPath(id)}/enrollment-tokens`, undefined));
  const expiresAt = String(issued.expiresAt);
  io.err(
    `dmrctl: this enrollment token is a SECRET: whoever holds it can enroll as agent ${id} once, until ${expiresAt}.\n` +
      'dmrctl: it is shown only now (dmr-control keeps only its hash); hand it over on a safe channel, keep it out of logs and history.\n',
  );
  emit(io, flags.output, { agentId: id, token: issued.token, expiresAt }, () => `${String(issued.token)}\n`);
}
