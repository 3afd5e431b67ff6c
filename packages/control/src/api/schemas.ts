// The admin API's wire contract as JSON Schema (TypeBox): request validation and the OpenAPI document both come
// from here. Every object refuses unknown members (additionalProperties: false).

import { AgentCapability, AgentId, CentOpsAgent, DmrRegistryExtension, INSTANCE_ID_PATTERN, ServerReport } from '@dmr/shared';
import Type, { type TSchema } from 'typebox';
import {
  GROUP_NAME_PATTERN,
  LABEL_KEY_PATTERN,
  MAX_GROUPS,
  MAX_KEY_PEM_LENGTH,
  MAX_LABELS,
  REGISTRY_DOCUMENT_FORMAT,
} from '../domain/index.js';

const CLOSED = { additionalProperties: false } as const;

/** `{statusCode, code, message, field?}`: every error answer. */
export const ErrorBody = Type.Object(
  {
    statusCode: Type.Integer({ minimum: 400, maximum: 599 }),
    code: Type.String({ pattern: '^DMR_[A-Z]+_[A-Z_]+$', description: 'a code of docs/errors.md' }),
    message: Type.String(),
    field: Type.Optional(Type.String({ description: 'dotted path of the field at fault, e.g. agents.998.id' })),
  },
  CLOSED,
);

const ShortText = Type.String({ maxLength: 256 });
const Labels = Type.Record(Type.String({ pattern: LABEL_KEY_PATTERN }), ShortText, {
  ...CLOSED,
  maxProperties: MAX_LABELS,
  description: `key → value; keys match ${LABEL_KEY_PATTERN}, values are free text of at most 256 characters`,
});
const Groups = Type.Array(Type.String({ pattern: GROUP_NAME_PATTERN }), { maxItems: MAX_GROUPS, uniqueItems: true });
const Capabilities = Type.Array(AgentCapability, { maxItems: 16, uniqueItems: true });
const KeyPem = Type.Union([Type.String({ minLength: 1, maxLength: MAX_KEY_PEM_LENGTH }), Type.Null()], {
  description: 'PEM public key (RSA ≥ 2048 bits or EC P-256) or certificate; null until the agent enrolled',
});

/** The editable fields of an agent. */
const agentFields = {
  name: Type.String({ minLength: 1, maxLength: 256 }),
  institution: Type.Optional(ShortText),
  contact: Type.Optional(ShortText),
  labels: Type.Optional(Labels),
  groups: Type.Optional(Groups),
  authenticationCertificate: Type.Optional(KeyPem),
  capabilities: Type.Optional(Capabilities),
  enabled: Type.Optional(Type.Boolean()),
};

/** `POST /v1/agents`: a new agent; without `id` the control plane makes a UUID. */
export const AgentCreateBody = Type.Object({ id: Type.Optional(AgentId), ...agentFields }, CLOSED);

/** `PATCH /v1/agents/{id}`: the fields to replace (labels and groups as a whole). */
export const AgentPatchBody = Type.Object({ ...agentFields, name: Type.Optional(agentFields.name) }, { ...CLOSED, minProperties: 1 });

/** An agent as the admin API shows it. */
export const AgentView = Type.Object(
  {
    id: AgentId,
    name: Type.String(),
    institution: Type.String(),
    contact: Type.String(),
    labels: Type.Record(Type.String(), Type.String()),
    groups: Type.Array(Type.String()),
    authenticationCertificate: Type.Union([Type.String(), Type.Null()]),
    capabilities: Type.Array(Type.String()),
    enabled: Type.Boolean(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    revision: Type.Integer({ minimum: 1, description: 'the ETag is "<revision>"' }),
  },
  CLOSED,
);

/** A page of a list. */
export function pageOf(item: TSchema): TSchema {
  return Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) }, CLOSED);
}

/** `?limit=&cursor=` of every list. */
export const pageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
};

/** `GET /v1/agents` filters. */
export const AgentListQuery = Type.Object(
  {
    ...pageQuery,
    enabled: Type.Optional(Type.Boolean()),
    group: Type.Optional(Type.String({ pattern: GROUP_NAME_PATTERN })),
    label: Type.Optional(Type.String({ pattern: '^[a-z0-9](?:[a-z0-9._/-]{0,62}[a-z0-9])?=.{0,256}$', description: 'key=value' })),
    namePrefix: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    hasKey: Type.Optional(Type.Boolean({ description: 'true: only agents with an authenticationCertificate' })),
  },
  CLOSED,
);

/** `{id}` of an agent route. */
export const AgentIdParams = Type.Object({ id: AgentId }, CLOSED);

/** `{configVersion}`. */
export const ConfigVersionBody = Type.Object({ configVersion: Type.Integer({ minimum: 0 }) }, CLOSED);

/**
 * `PUT /v1/servers/{instanceId}`: what a server reports after every applied sync: the shared `ServerReport` schema
 * (docs/control-plane.md, used as it is), closed to unknown members like every body here.
 */
export const ServerReportBody = Type.Object(ServerReport.properties, CLOSED);

/** `{instanceId}` of a server route (`INSTANCE_ID_PATTERN`). */
export const ServerIdParams = Type.Object({ instanceId: Type.String({ pattern: INSTANCE_ID_PATTERN.source }) }, CLOSED);

/** A server instance as the admin API shows it. */
export const ServerView = Type.Object(
  {
    instanceId: Type.String(),
    name: Type.String(),
    firstSeenAt: Type.String(),
    lastSyncAt: Type.String(),
    configVersion: Type.Integer({ description: '0 also while the server runs no versioned registry (it reported null)' }),
    crlNumbers: Type.Unknown({ description: 'as the server reported them: [{issuer, crlNumber}]' }),
    version: Type.String(),
    startedAt: Type.Union([Type.String(), Type.Null()]),
  },
  CLOSED,
);

/** One change log entry. */
export const ChangeView = Type.Object(
  {
    seq: Type.Integer(),
    at: Type.String(),
    actor: Type.Object({ subject: Type.String(), role: Type.String() }),
    action: Type.String(),
    subjectKind: Type.String(),
    subjectId: Type.Union([Type.String(), Type.Null()]),
    beforeHash: Type.Union([Type.String(), Type.Null()]),
    afterHash: Type.Union([Type.String(), Type.Null()]),
    configVersion: Type.Integer(),
    outcome: Type.Union([Type.Literal('applied'), Type.Literal('refused')]),
    code: Type.Union([Type.String(), Type.Null()]),
  },
  CLOSED,
);

/** `GET /v1/changes` filters. */
export const ChangeListQuery = Type.Object(
  {
    ...pageQuery,
    subjectKind: Type.Optional(Type.String({ pattern: '^[a-z][a-z-]{0,31}$' })),
    subjectId: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    action: Type.Optional(Type.String({ pattern: '^[a-z][a-z.-]{0,63}$' })),
    outcome: Type.Optional(Type.Union([Type.Literal('applied'), Type.Literal('refused')])),
    since: Type.Optional(Type.String({ format: 'date-time' })),
  },
  CLOSED,
);

/** A policy document: any JSON object (its content is issue #19's). */
const PolicyDocument = Type.Object(
  {},
  {
    additionalProperties: true,
    description:
      'a dmr-policy/v1 document (docs/policy.md), at most 8 MiB of JSON; a refusal names the first bad field (document.rules.3.effect)',
  },
);

/** `POST /v1/policies`. */
export const PolicyCreateBody = Type.Object({ document: PolicyDocument, comment: Type.Optional(Type.String({ maxLength: 4096 })) }, CLOSED);

/** One policy version. */
export const PolicyView = Type.Object(
  {
    version: Type.Integer({ minimum: 1 }),
    document: PolicyDocument,
    createdAt: Type.String(),
    createdBy: Type.String(),
    comment: Type.String(),
  },
  CLOSED,
);

/** `{version}` of a policy route. */
export const PolicyVersionParams = Type.Object({ version: Type.Integer({ minimum: 1 }) }, CLOSED);

/** One agent of a registry document. */
const RegistryAgent = Type.Object({ id: AgentId, ...agentFields }, CLOSED);

/** The whole registry and the policy (`GET /v1/export`, `POST /v1/import`, JSON or YAML). */
export const RegistryDocumentSchema = Type.Object(
  {
    format: Type.Literal(REGISTRY_DOCUMENT_FORMAT),
    exportedAt: Type.Optional(Type.String({ format: 'date-time', description: 'set by export; ignored by import' })),
    configVersion: Type.Optional(Type.Integer({ minimum: 0, description: 'set by export; ignored by import' })),
    agents: Type.Array(RegistryAgent, { maxItems: 100_000 }),
    policy: Type.Optional(
      Type.Union([
        Type.Object(
          { document: PolicyDocument, comment: Type.Optional(Type.String({ maxLength: 4096 })), version: Type.Optional(Type.Integer()) },
          CLOSED,
        ),
        Type.Null(),
      ]),
    ),
  },
  CLOSED,
);

/** `POST /v1/import` query. */
export const ImportQuery = Type.Object(
  {
    dryRun: Type.Optional(Type.Boolean({ default: false, description: 'answer the diff without applying it' })),
    prune: Type.Optional(Type.Boolean({ default: false, description: 'also remove agents the document does not list' })),
  },
  CLOSED,
);

/** `GET /v1/export` query. */
export const ExportQuery = Type.Object(
  { format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('yaml')], { default: 'json' })) },
  CLOSED,
);

/** What an import did (or would do). */
export const ImportResult = Type.Object(
  {
    dryRun: Type.Boolean(),
    configVersion: Type.Integer({ description: 'after the import (unchanged by a dry run or an import that changed nothing)' }),
    diff: Type.Object({
      agents: Type.Object({
        added: Type.Array(Type.String()),
        changed: Type.Array(Type.Object({ id: Type.String(), fields: Type.Array(Type.String()) })),
        removed: Type.Array(Type.String()),
        unchanged: Type.Integer(),
      }),
      policy: Type.Union([Type.Literal('added'), Type.Literal('changed'), Type.Literal('unchanged'), Type.Literal('absent')]),
    }),
  },
  CLOSED,
);

/**
 * `GET /centops/configuration`: CentOps' shape plus the `dmr` extension seed-003 readers ignore; the very schemas
 * dmr-server validates the document with (`CentOpsAgent`, `DmrRegistryExtension` in @dmr/shared), the member required.
 */
export const CentOpsResponse = Type.Object({ response: Type.Array(CentOpsAgent), dmr: DmrRegistryExtension });

/** `GET /v1/health`. */
export const HealthBody = Type.Object({ status: Type.Literal('ok') });

/** `GET /v1/ready`. */
export const ReadyBody = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not-ready')]),
  checks: Type.Record(Type.String(), Type.String()),
  configVersion: Type.Optional(Type.Integer()),
});

/** `If-Match` of PATCH and DELETE: required (428 without it), one strong ETag. */
export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ description: 'the ETag of the record as read, e.g. "3"; required (428 without it)' })),
});
