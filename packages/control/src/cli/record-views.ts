// How the API's records show in `--output table` (pure). Columns read the fields docs/control-plane.md and the store
// define; a field the API does not send shows as `-`.
import type { ApiRecord } from './api-client/index.js';
import { ageText, type Column, cellText, renderFields } from './table.js';

const text = (field: string) => (row: ApiRecord) => cellText(row[field]);

/** What `agents list` shows. */
export const AGENT_COLUMNS: readonly Column<ApiRecord>[] = [
  { header: 'id', value: text('id'), maxWidth: 40 },
  { header: 'name', value: text('name'), maxWidth: 40 },
  { header: 'institution', value: text('institution'), maxWidth: 30 },
  { header: 'enabled', value: (row) => (row.enabled === false ? 'no' : 'yes') },
  { header: 'key', value: (row) => keyText(row.authenticationCertificate, true) },
  { header: 'groups', value: text('groups'), maxWidth: 30 },
  { header: 'revision', value: text('revision') },
  { header: 'updated', value: text('updatedAt') },
];

/** What `agents get` (and create, update, …) shows: one field per line. */
export function agentFields(agent: ApiRecord): string {
  return renderFields([
    ['id', cellText(agent.id)],
    ['name', cellText(agent.name)],
    ['institution', cellText(agent.institution)],
    ['contact', cellText(agent.contact)],
    ['enabled', agent.enabled === false ? 'no' : 'yes'],
    ['labels', cellText(agent.labels)],
    ['groups', cellText(agent.groups)],
    ['capabilities', cellText(agent.capabilities)],
    ['key', keyText(agent.authenticationCertificate, false)],
    ['created', cellText(agent.createdAt)],
    ['updated', cellText(agent.updatedAt)],
    ['revision', cellText(agent.revision)],
  ]);
}

function keyText(pem: unknown, isShort: boolean): string {
  if (typeof pem !== 'string' || pem === '') return isShort ? '-' : 'none (not enrolled)';
  const kind = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem)?.[1]?.toLowerCase() ?? 'PEM';
  return isShort ? (kind.includes('certificate') ? 'certificate' : 'public key') : `${kind} (PEM, ${pem.length} characters)`;
}

/** A certificate's state at `now`: `revoked (reason)`, `expired`, or `valid`. */
export function certificateStatus(certificate: ApiRecord, now: Date): string {
  if (typeof certificate.revokedAt === 'string') return `revoked (${cellText(certificate.revocationReason)})`;
  const notAfter = typeof certificate.notAfter === 'string' ? Date.parse(certificate.notAfter) : Number.NaN;
  return !Number.isNaN(notAfter) && notAfter <= now.getTime() ? 'expired' : 'valid';
}

/** What `certs list` shows. */
export function certificateColumns(now: Date): Column<ApiRecord>[] {
  return [
    { header: 'serial', value: text('serial'), maxWidth: 40 },
    { header: 'kind', value: text('subjectKind') },
    { header: 'subject', value: text('subjectId'), maxWidth: 40 },
    { header: 'not after', value: text('notAfter') },
    { header: 'expires', value: (row) => ageText(row.notAfter, now).replace(/ ago$/, ' ago (expired)') },
    { header: 'status', value: (row) => certificateStatus(row, now) },
  ];
}

/**
 * How far a server's configVersion is behind `current`: 0 when up to date, null when the server reported none (it runs
 * no versioned registry yet, e.g. one from a file).
 */
export function versionsBehind(server: ApiRecord, current: number): number | null {
  if (typeof server.configVersion !== 'number') return null;
  return server.configVersion < current ? current - server.configVersion : 0;
}

/** What `servers list` shows; `current` is the control plane's configVersion. */
export function serverColumns(current: number, now: Date): Column<ApiRecord>[] {
  return [
    { header: 'instance', value: text('instanceId'), maxWidth: 40 },
    { header: 'name', value: text('name'), maxWidth: 40 },
    { header: 'config version', value: text('configVersion') },
    {
      header: 'state',
      value: (row) => {
        const behind = versionsBehind(row, current);
        return behind === null ? 'unknown' : behind === 0 ? 'current' : `BEHIND by ${behind}`;
      },
    },
    { header: 'last sync', value: (row) => `${cellText(row.lastSyncAt)} (${ageText(row.lastSyncAt, now)})` },
    { header: 'version', value: (row) => cellText(row.softwareVersion ?? row.version) },
  ];
}

/** What `changes list` shows. */
export const CHANGE_COLUMNS: readonly Column<ApiRecord>[] = [
  { header: 'seq', value: text('seq') },
  { header: 'at', value: text('at') },
  { header: 'actor', value: (row) => actorText(row.actor), maxWidth: 40 },
  { header: 'action', value: text('action') },
  { header: 'subject', value: (row) => `${cellText(row.subjectKind)}:${cellText(row.subjectId)}`, maxWidth: 50 },
  { header: 'outcome', value: (row) => (row.code ? `${cellText(row.outcome)} ${cellText(row.code)}` : cellText(row.outcome)) },
  { header: 'config version', value: text('configVersion') },
];

function actorText(actor: unknown): string {
  if (typeof actor !== 'object' || actor === null) return cellText(actor);
  const { subject, role } = actor as Record<string, unknown>;
  return `${cellText(subject)} (${cellText(role)})`;
}

/** What `policies list` shows. */
export const POLICY_COLUMNS: readonly Column<ApiRecord>[] = [
  { header: 'version', value: text('version') },
  { header: 'created', value: text('createdAt') },
  { header: 'by', value: text('createdBy'), maxWidth: 40 },
  { header: 'comment', value: text('comment') },
];
