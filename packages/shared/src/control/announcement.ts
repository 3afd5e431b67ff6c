import Type, { type Static } from 'typebox';
import { type Result, refuse } from '../result.js';
import { IsoTimestamp } from '../schemas/common.js';
import { compileValidator } from '../schemas/validate.js';

/**
 * What an announcement on `dmr.control` asks servers to re-read (design.md, docs/control-plane.md): `registry`
 * (CENTOPS_CONFIGURATION_URL), `crl` (DMR_TLS_CRL_URL), `policy` and `peers` (later issues).
 */
export const CONTROL_KINDS = ['registry', 'crl', 'policy', 'peers'] as const;

/** One of {@link CONTROL_KINDS}. */
export type ControlKind = (typeof CONTROL_KINDS)[number];

/**
 * Largest announcement read, bytes. A real one is under 150 bytes; anything far larger is refused before it is parsed,
 * so a flood of big messages costs a length check each.
 */
export const MAX_ANNOUNCEMENT_BYTES = 4096;

/**
 * A kind token. Kinds a server does not know are accepted and ignored, so a newer control plane that announces a new
 * kind together with `registry` still gets its registry re-read by older servers.
 */
const KindToken = Type.String({ pattern: '^[a-z][a-z0-9-]{0,31}$' });

/** `{configVersion, kinds, at}` published by dmr-control after every committed write (docs/control-plane.md). */
export const ControlAnnouncement = Type.Object({
  configVersion: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  kinds: Type.Array(KindToken, { minItems: 1, maxItems: 16 }),
  at: IsoTimestamp,
});

export type ControlAnnouncement = Static<typeof ControlAnnouncement>;

const validateAnnouncement = compileValidator<ControlAnnouncement>(ControlAnnouncement, 'DMR_CONTROL_ANNOUNCEMENT_INVALID');

/**
 * Parses one `dmr.control` message body. Never throws, whatever the bytes: anyone who can publish to the exchange
 * (a broker administrator, a compromised account) must not be able to crash a server. Refusal code:
 * DMR_CONTROL_ANNOUNCEMENT_INVALID (too large, not UTF-8 JSON, or not the schema), with the failing fields.
 */
export function parseControlAnnouncement(body: Uint8Array | string): Result<ControlAnnouncement> {
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  if (size > MAX_ANNOUNCEMENT_BYTES) {
    return refuse('DMR_CONTROL_ANNOUNCEMENT_INVALID', '', `announcement is ${size} bytes; the limit is ${MAX_ANNOUNCEMENT_BYTES}`);
  }
  let value: unknown;
  try {
    const text = typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: true }).decode(body);
    value = JSON.parse(text);
  } catch {
    return refuse('DMR_CONTROL_ANNOUNCEMENT_INVALID', '', 'announcement is not UTF-8 JSON');
  }
  return validateAnnouncement(value);
}

/** The kinds of `announcement` this build knows, each once, in {@link CONTROL_KINDS} order. */
export function knownKindsOf(announcement: Pick<ControlAnnouncement, 'kinds'>): ControlKind[] {
  return CONTROL_KINDS.filter((kind) => announcement.kinds.includes(kind));
}

/** One CRL a server runs, as it reports it: the issuer's name and the CRL number in decimal (up to 20 octets). */
export const ReportedCrl = Type.Object({
  issuer: Type.String({ maxLength: 1024 }),
  crlNumber: Type.Union([Type.String({ pattern: '^[0-9]{1,49}$' }), Type.Null()]),
});

/**
 * The body of `PUT /v1/servers/{instanceId}` (docs/control-plane.md): what a server runs. `configVersion` is null
 * while no versioned registry is in force; `crlNumbers` lists one entry per CRL in force (one per CA);
 * `version` is the dmr-server package version; `startedAt` when the process started.
 */
export const ServerReport = Type.Object({
  configVersion: Type.Union([Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }), Type.Null()]),
  crlNumbers: Type.Array(ReportedCrl, { maxItems: 64 }),
  version: Type.String({ pattern: '^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$', description: 'a package version (semver)' }),
  startedAt: IsoTimestamp,
});

export type ReportedCrl = Static<typeof ReportedCrl>;
export type ServerReport = Static<typeof ServerReport>;

/** Instance ids (`DMR_INSTANCE_ID`) travel in a URL path: the agent-id alphabet plus `.`, at most 128 characters. */
export const INSTANCE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
