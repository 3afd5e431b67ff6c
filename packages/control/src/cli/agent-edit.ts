// Turning `agents create` / `agents update` flags into the API's bodies (pure).
import type { ApiRecord } from './api-client/index.js';
import { UsageError } from './output.js';

/** The fields both `create` and `update` set. */
export interface AgentFieldFlags {
  readonly name?: string;
  readonly institution?: string;
  readonly contact?: string;
  readonly capability?: string[];
}

/** The flags of `agents create`, the certificate already read from its file. */
export interface AgentCreateFlags extends AgentFieldFlags {
  readonly id?: string;
  readonly label?: [string, string][];
  readonly group?: string[];
  readonly disabled?: true;
}

/** The flags of `agents update`: labels and groups are edited one by one, the rest replaced. */
export interface AgentUpdateFlags extends AgentFieldFlags {
  readonly setLabel?: [string, string][];
  readonly unsetLabel?: string[];
  readonly addGroup?: string[];
  readonly removeGroup?: string[];
}

/** The body of `POST /v1/agents`: only what was given; the API fills the rest (and makes a UUID without `--id`). */
export function agentCreateBody(flags: AgentCreateFlags, certificate?: string): Record<string, unknown> {
  return {
    ...(flags.id === undefined ? {} : { id: flags.id }),
    name: flags.name,
    ...(flags.institution === undefined ? {} : { institution: flags.institution }),
    ...(flags.contact === undefined ? {} : { contact: flags.contact }),
    ...(flags.label === undefined ? {} : { labels: Object.fromEntries(flags.label) }),
    ...(flags.group === undefined ? {} : { groups: [...new Set(flags.group)] }),
    ...(flags.capability === undefined ? {} : { capabilities: [...new Set(flags.capability)] }),
    ...(certificate === undefined ? {} : { authenticationCertificate: certificate }),
    ...(flags.disabled ? { enabled: false } : {}),
  };
}

/** True when `agents update` was given nothing to change. */
export function isEmptyUpdate(flags: AgentUpdateFlags, hasCertificate: boolean): boolean {
  const lists = [flags.setLabel, flags.unsetLabel, flags.addGroup, flags.removeGroup, flags.capability];
  return (
    !hasCertificate &&
    flags.name === undefined &&
    flags.institution === undefined &&
    flags.contact === undefined &&
    lists.every((list) => list === undefined)
  );
}

/**
 * The body of `PATCH /v1/agents/{id}` that applies `flags` to `current` (read with its ETag just before): labels and
 * groups are whole values in the API, so the edit is made here on what was read. Only fields that change are sent;
 * `{}` means the agent already is as asked. Throws a {@link UsageError} when a label or group to remove is absent.
 */
export function agentPatchBody(current: ApiRecord, flags: AgentUpdateFlags, certificate?: string): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const field of ['name', 'institution', 'contact'] as const) {
    const value = flags[field];
    if (value !== undefined && value !== current[field]) patch[field] = value;
  }
  const labels = editLabels(asLabels(current.labels), flags);
  if (!sameLabels(labels, asLabels(current.labels))) patch.labels = labels;
  const groups = editGroups(asList(current.groups), flags);
  if (!sameJson(groups, asList(current.groups))) patch.groups = groups;
  if (flags.capability !== undefined) {
    const capabilities = [...new Set(flags.capability)];
    if (!sameJson(capabilities, asList(current.capabilities))) patch.capabilities = capabilities;
  }
  if (certificate !== undefined && certificate !== current.authenticationCertificate) patch.authenticationCertificate = certificate;
  return patch;
}

function editLabels(labels: Record<string, string>, flags: AgentUpdateFlags): Record<string, string> {
  const edited = { ...labels };
  for (const key of flags.unsetLabel ?? []) {
    if (!Object.hasOwn(edited, key)) throw new UsageError(`--unset-label ${key}: the agent has no such label`);
    delete edited[key];
  }
  for (const [key, value] of flags.setLabel ?? []) edited[key] = value;
  return edited;
}

function editGroups(groups: string[], flags: AgentUpdateFlags): string[] {
  const removed = new Set(flags.removeGroup ?? []);
  for (const group of removed) {
    if (!groups.includes(group)) throw new UsageError(`--remove-group ${group}: the agent is not in that group`);
  }
  const kept = groups.filter((group) => !removed.has(group));
  return [...new Set([...kept, ...(flags.addGroup ?? [])])];
}

function asLabels(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

function asList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key]);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
