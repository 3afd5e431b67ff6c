// The export/import document of the control plane (issue 18): the whole agent registry and every policy version as
// one YAML or JSON document. `GET /v1/export` writes it, `POST /v1/import` reads it, `dmrctl export`/`import` carry it.
// Pure: schema, validation and normalisation only; the diff lives in document-diff.ts.
import { AgentCapability, AgentId, compileValidator, type FieldError, type Result, type Validator } from '@dmr/shared';
import Type, { type Static } from 'typebox';

/** `apiVersion` of the document. A future incompatible format gets another one. */
export const EXPORT_API_VERSION = 'dmr.ee/v1';
/** `kind` of the document. */
export const EXPORT_KIND = 'ControlExport';

const ShortText = (description: string) => Type.String({ maxLength: 200, description });
/** Label keys: the safe alphabet of Kubernetes-style keys (`team`, `dmr.ee/tier`). */
const LabelKey = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$' });
const LabelValue = Type.String({ maxLength: 200 });

/**
 * One agent as the document carries it: what an operator sets. The store's own fields (`createdAt`, `updatedAt`,
 * `revision`) are left out, so a document moves between control planes and an export imported back changes nothing.
 * Every field but `id` and `name` is optional; {@link normaliseExportDocument} fills the defaults.
 */
export const ExportAgent = Type.Object(
  {
    id: AgentId,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    institution: Type.Optional(ShortText('institution that runs the agent (default: empty)')),
    contact: Type.Optional(ShortText('who to call about it (default: empty)')),
    labels: Type.Optional(
      Type.Record(LabelKey, LabelValue, {
        additionalProperties: false,
        maxProperties: 64,
        description: 'free key → value labels (default: none)',
      }),
    ),
    groups: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 64, uniqueItems: true })),
    authenticationCertificate: Type.Optional(
      Type.Union([Type.String({ minLength: 1, maxLength: 16_384 }), Type.Null()], {
        description: 'PEM public key or certificate; null until the agent enrolled (default: null)',
      }),
    ),
    capabilities: Type.Optional(Type.Array(AgentCapability, { maxItems: 16, uniqueItems: true })),
    enabled: Type.Optional(Type.Boolean({ description: 'default: true' })),
  },
  { additionalProperties: false },
);

/**
 * One policy version (content: issue #19). Versions are history: an import adds the versions the control plane does
 * not have yet; changing or removing a version it has shows in the diff, and the API decides whether to refuse it.
 */
export const ExportPolicy = Type.Object(
  {
    version: Type.Integer({ minimum: 1 }),
    document: Type.Unknown({ description: 'the policy document (any JSON value)' }),
    comment: Type.Optional(Type.String({ maxLength: 1000, description: 'default: empty' })),
  },
  { additionalProperties: false },
);

/** The whole document. `exportedAt` and `configVersion` say where an export came from; import and diff ignore them. */
export const ControlExportDocument = Type.Object(
  {
    apiVersion: Type.Literal(EXPORT_API_VERSION),
    kind: Type.Literal(EXPORT_KIND),
    exportedAt: Type.Optional(Type.String({ format: 'date-time' })),
    configVersion: Type.Optional(Type.Integer({ minimum: 0 })),
    agents: Type.Array(ExportAgent, { maxItems: 100_000 }),
    policies: Type.Optional(Type.Array(ExportPolicy, { maxItems: 10_000 })),
  },
  { additionalProperties: false },
);

export type ExportAgent = Static<typeof ExportAgent>;
export type ExportPolicy = Static<typeof ExportPolicy>;
export type ControlExportDocument = Static<typeof ControlExportDocument>;

/** An agent with every default filled in: what the diff compares. */
export type NormalAgent = Required<ExportAgent>;
/** A policy version with its default comment filled in. */
export type NormalPolicy = Required<ExportPolicy>;
/** A document with every default filled in, agents sorted by id and policies by version. */
export interface NormalExportDocument {
  readonly apiVersion: typeof EXPORT_API_VERSION;
  readonly kind: typeof EXPORT_KIND;
  readonly exportedAt?: string;
  readonly configVersion?: number;
  readonly agents: NormalAgent[];
  readonly policies: NormalPolicy[];
}

// compiled on first use: dmrctl loads this module for import, never for --help
let validateShape: Validator<ControlExportDocument> | undefined;

// a document of 1000 broken agents should not answer with 1000 lines
const MAX_REPORTED_ERRORS = 50;

/**
 * Checks `value` against {@link ControlExportDocument}, then what a schema cannot say: agent ids and policy versions
 * are unique. A refusal (`DMR_CONTROL_DOCUMENT_INVALID`) lists every failing field as a dotted path (`agents.3.id`).
 */
export function validateExportDocument(value: unknown): Result<NormalExportDocument> {
  validateShape ??= compileValidator<ControlExportDocument>(ControlExportDocument, 'DMR_CONTROL_DOCUMENT_INVALID');
  const shape = validateShape(value);
  if (!shape.ok) return { ...shape, errors: shape.errors.slice(0, MAX_REPORTED_ERRORS) };
  const document = shape.value;
  const duplicates = [
    ...duplicatesOf(
      document.agents.map((agent) => agent.id),
      'agents',
      'id',
    ),
    ...duplicatesOf(
      (document.policies ?? []).map((policy) => policy.version),
      'policies',
      'version',
    ),
  ];
  if (duplicates.length > 0) return { ok: false, code: 'DMR_CONTROL_DOCUMENT_INVALID', errors: duplicates.slice(0, MAX_REPORTED_ERRORS) };
  return { ok: true, value: normaliseExportDocument(document) };
}

function duplicatesOf(keys: readonly (string | number)[], list: string, field: string): FieldError[] {
  const first = new Map<string | number, number>();
  const errors: FieldError[] = [];
  keys.forEach((key, index) => {
    const seen = first.get(key);
    if (seen === undefined) first.set(key, index);
    else errors.push({ path: `${list}.${index}.${field}`, message: `duplicates ${list}.${seen}.${field} (${String(key)})` });
  });
  return errors;
}

/** Fills every default in, sorts agents by id, policies by version and labels by key: one spelling per meaning. */
export function normaliseExportDocument(document: ControlExportDocument): NormalExportDocument {
  return {
    apiVersion: EXPORT_API_VERSION,
    kind: EXPORT_KIND,
    ...(document.exportedAt === undefined ? {} : { exportedAt: document.exportedAt }),
    ...(document.configVersion === undefined ? {} : { configVersion: document.configVersion }),
    agents: document.agents.map(normaliseAgent).sort((a, b) => compareText(a.id, b.id)),
    policies: (document.policies ?? []).map(normalisePolicy).sort((a, b) => a.version - b.version),
  };
}

/** One agent with its defaults filled in and its labels sorted by key. */
export function normaliseAgent(agent: ExportAgent): NormalAgent {
  const labels = Object.entries(agent.labels ?? {}).sort(([a], [b]) => compareText(a, b));
  return {
    id: agent.id,
    name: agent.name,
    institution: agent.institution ?? '',
    contact: agent.contact ?? '',
    labels: Object.fromEntries(labels),
    groups: [...(agent.groups ?? [])],
    authenticationCertificate: agent.authenticationCertificate ?? null,
    capabilities: [...(agent.capabilities ?? [])],
    enabled: agent.enabled ?? true,
  };
}

/** One policy version with its default comment. */
export function normalisePolicy(policy: ExportPolicy): NormalPolicy {
  return { version: policy.version, document: policy.document, comment: policy.comment ?? '' };
}

// code-unit order, not locale order: the same on every machine
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
