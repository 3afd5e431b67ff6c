// What `dmrctl certs|servers|changes|policies …` do (loaded when one runs).
import { normaliseSerial } from '@dmr/shared/base';
import { type ApiRecord, type ControlClient, PAGE_SIZE } from './api-client/index.js';
import type { ApiFlags } from './api-options.js';
import { emit, pageProgress, withControlClient } from './api-session.js';
import { readDocumentFile, serialiseDocument } from './document-files.js';
import type { CliContext, CliIo } from './output.js';
import { CHANGE_COLUMNS, certificateColumns, POLICY_COLUMNS, serverColumns, versionsBehind } from './record-views.js';
import { cellText, renderFields, renderTable } from './table.js';

type CertificateListFlags = ApiFlags & {
  readonly expiringWithin?: number;
  readonly subject?: string;
  readonly kind?: string;
  readonly revoked?: true;
  readonly unrevoked?: true;
};

/** `certs list`: every page with the API's filters; JSON `{items}`. */
export async function listCertificates(io: CliIo, context: CliContext, flags: CertificateListFlags): Promise<void> {
  const now = new Date();
  const certificates = await withControlClient(context, flags, (client) =>
    client.list('v1/certificates', { query: certificateQuery(flags, now), onPage: pageProgress(io, 'certificates', PAGE_SIZE) }),
  );
  emit(io, flags.output, { items: certificates }, () => renderTable(certificateColumns(now), certificates));
}

/** The query of `GET /v1/certificates`: `--expiring-within` becomes `expiringBefore` (now + span) of unrevoked ones. */
export function certificateQuery(flags: CertificateListFlags, now: Date): Record<string, string | boolean | undefined> {
  const isExpiring = flags.expiringWithin !== undefined;
  return {
    subjectId: flags.subject,
    subjectKind: flags.kind,
    revoked: flags.revoked ? true : flags.unrevoked || isExpiring ? false : undefined,
    expiringBefore: isExpiring ? new Date(now.getTime() + (flags.expiringWithin ?? 0)).toISOString() : undefined,
  };
}

/** `certs revoke <serial> --reason <reason>`: what was revoked (keyCompromise: the same key's siblings too), agents cut. */
export async function revokeCertificate(
  io: CliIo,
  context: CliContext,
  serial: string,
  flags: ApiFlags & { reason: string },
): Promise<void> {
  const canonical = normaliseSerial(serial);
  const answer = await withControlClient(context, flags, (client) =>
    client.post(`v1/certificates/${canonical}/revocation`, { reason: flags.reason }),
  );
  emit(io, flags.output, answer, () => revocationText(canonical, flags.reason, answer));
}

/** The table text of a revocation: every serial revoked, the agents cut from the registry, the CRL push. */
export function revocationText(serial: string, reason: string, answer: ApiRecord): string {
  const revoked = Array.isArray(answer.revoked) ? answer.revoked.map((entry) => cellText((entry as ApiRecord).serial ?? entry)) : [serial];
  const cut = Array.isArray(answer.agentsCut) ? answer.agentsCut.map(cellText) : [];
  const lines = [`revoked ${revoked.length} certificate(s), reason ${reason}: ${revoked.join(', ')}`];
  if (cut.length > 0) lines.push(`agents cut from the registry until they enroll again: ${cut.join(', ')}`);
  lines.push('dmr-control signed a new CRL and announces it: servers drop the connections of revoked certificates');
  return `${lines.join('\n')}\n`;
}

/** `ca-ring publish|activate|retire <caId>`: `POST /v1/ca/rotation`; prints the ring after the step. */
export async function rotateCa(
  io: CliIo,
  context: CliContext,
  step: 'publish' | 'activate' | 'retire',
  caId: string,
  flags: ApiFlags & { purpose?: string; commonName?: string; keyType?: string; validityDays?: number },
): Promise<void> {
  const body = {
    step,
    caId,
    ...(step === 'publish'
      ? { purpose: flags.purpose, commonName: flags.commonName, keyType: flags.keyType, validityDays: flags.validityDays }
      : {}),
  };
  const answer = await withControlClient(context, flags, (client) => client.post('v1/ca/rotation', withoutUndefined(body)));
  emit(io, flags.output, answer, () => rotationText(answer));
}

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

/** The table text of a change-over step: the ring after it, and what servers and agents do next. */
export function rotationText(answer: ApiRecord): string {
  const ring = (answer.ring ?? {}) as ApiRecord;
  const cas = Array.isArray(ring.cas) ? (ring.cas as ApiRecord[]) : [];
  const lines = [
    `${cellText(answer.step)} ${cellText(answer.caId)}: done (configVersion ${cellText(answer.configVersion)}, announced as crl)`,
  ];
  for (const ca of cas) lines.push(`  ${cellText(ca.id)}  ${cellText(ca.purpose)}  ${cellText(ca.status)}`);
  return `${lines.join('\n')}\n`;
}

/** `servers list`: the servers and the current configVersion; JSON `{configVersion, items}` with `behindBy` per server. */
export async function listServers(io: CliIo, context: CliContext, flags: ApiFlags): Promise<void> {
  const now = new Date();
  const { configVersion, servers } = await withControlClient(context, flags, async (client) => ({
    configVersion: await currentConfigVersion(client),
    servers: await client.list('v1/servers'),
  }));
  const items = servers.map((server) => ({ ...server, behindBy: versionsBehind(server, configVersion) }));
  const behind = items.filter((server) => (server.behindBy ?? 0) > 0).length;
  emit(io, flags.output, { configVersion, items }, () => {
    const state = servers.length === 0 ? '' : behind > 0 ? `, ${behind} BEHIND` : ', all current';
    return `configVersion ${configVersion}; ${servers.length} server(s)${state}\n${renderTable(serverColumns(configVersion, now), servers)}`;
  });
}

async function currentConfigVersion(client: ControlClient): Promise<number> {
  const answer = await client.get('v1/config-version');
  return typeof answer.configVersion === 'number' ? answer.configVersion : 0;
}

type ChangeFlags = ApiFlags & {
  readonly limit: number;
  readonly all?: true;
  readonly since?: string;
  readonly subjectKind?: string;
  readonly subjectId?: string;
  readonly action?: string;
  readonly outcome?: 'applied' | 'refused';
};

/** `changes list`: the first `--limit` entries (or `--all`) matching the API's filters, oldest first; JSON `{items}`. */
export async function listChanges(io: CliIo, context: CliContext, flags: ChangeFlags): Promise<void> {
  const query = {
    since: flags.since,
    subjectKind: flags.subjectKind,
    subjectId: flags.subjectId,
    action: flags.action,
    outcome: flags.outcome,
  };
  const changes = await withControlClient(context, flags, (client) =>
    client.list('v1/changes', { query, ...(flags.all ? {} : { limit: flags.limit }), onPage: pageProgress(io, 'changes', PAGE_SIZE) }),
  );
  emit(io, flags.output, { items: changes }, () => renderTable(CHANGE_COLUMNS, changes));
}

/** `policies list`. */
export async function listPolicies(io: CliIo, context: CliContext, flags: ApiFlags): Promise<void> {
  const policies = await withControlClient(context, flags, (client) => client.list('v1/policies'));
  emit(io, flags.output, { items: policies }, () => renderTable(POLICY_COLUMNS, policies));
}

/** `policies get <version>`: table output shows the document as YAML under the version's fields. */
export async function getPolicy(io: CliIo, context: CliContext, version: number, flags: ApiFlags): Promise<void> {
  const policy = await withControlClient(context, flags, (client) => client.get(`v1/policies/${version}`));
  emit(io, flags.output, policy, () => {
    const fields = renderFields([
      ['version', cellText(policy.version)],
      ['created', cellText(policy.createdAt)],
      ['by', cellText(policy.createdBy)],
      ['comment', cellText(policy.comment)],
    ]);
    return `${fields}---\n${serialiseDocument(policy.document, 'yaml')}`;
  });
}

/** `policies push <file>`: the document as the next version. */
export async function pushPolicy(io: CliIo, context: CliContext, file: string, flags: ApiFlags & { comment?: string }): Promise<void> {
  const { value } = await readDocumentFile(file);
  const body = { document: value, ...(flags.comment === undefined ? {} : { comment: flags.comment }) };
  const policy = await withControlClient(context, flags, (client) => client.post('v1/policies', body));
  emit(io, flags.output, policy, () => `pushed ${file} as policy version ${cellText(policy.version)}\n`);
}
