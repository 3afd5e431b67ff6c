// The dmr.audit stream event (design.md): `{v:1, eventId, at, kind, actor, subject, outcome, code?, configVersion,
// traceId?}`, metadata only. Parsed by the audit writer and by every other reader of the stream.

import Type, { type Static } from 'typebox';
import { type Result, refuse } from '../result.js';
import { IsoTimestamp } from '../schemas/common.js';
import { compileValidator } from '../schemas/validate.js';

/** The RabbitMQ stream queue the audit events go to (x-queue-type=stream). */
export const AUDIT_STREAM = 'dmr.audit';

/** Largest audit event read, bytes: events are metadata only, a real one is under 600 bytes. */
export const MAX_AUDIT_EVENT_BYTES = 8192;

/**
 * The event kinds: message outcomes (published by dmr-server, a later step), connection refusals, and what
 * dmr-control records itself (configuration and policy changes, certificate issue/renew/revoke and enrollment).
 */
export const AUDIT_KINDS = [
  'message.accepted',
  'message.delivered',
  'message.dead-lettered',
  'message.refused',
  'message.policy-denied',
  'connection.refused',
  'config.changed',
  'policy.changed',
  'certificate.issued',
  'certificate.renewed',
  'certificate.revoked',
  'agent.enrolled',
] as const;

/** One of {@link AUDIT_KINDS}. */
export type AuditKind = (typeof AUDIT_KINDS)[number];

const Token = (maxLength: number) => Type.String({ minLength: 1, maxLength });

/** An audit event, version 1. `eventId` is unique per event (a UUID): the writer deduplicates on it. */
export const AuditEvent = Type.Object(
  {
    v: Type.Literal(1),
    eventId: Type.String({ pattern: '^[A-Za-z0-9._:-]{8,128}$' }),
    at: IsoTimestamp,
    kind: Type.Unsafe<AuditKind>(Type.Union(AUDIT_KINDS.map((k) => Type.Literal(k)))),
    actor: Token(256),
    subject: Token(512),
    outcome: Type.Union([Type.Literal('ok'), Type.Literal('refused'), Type.Literal('failed')]),
    code: Type.Optional(Type.String({ pattern: '^DMR_[A-Z0-9_]{1,64}$' })),
    configVersion: Type.Union([Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }), Type.Null()]),
    traceId: Type.Optional(Type.String({ pattern: '^[0-9a-f]{32}$' })),
  },
  { additionalProperties: false },
);

export type AuditEvent = Static<typeof AuditEvent>;

/** Validates a value as an {@link AuditEvent}; refusal code DMR_AUDIT_EVENT_INVALID with the failing fields. */
export const validateAuditEvent = compileValidator<AuditEvent>(AuditEvent, 'DMR_AUDIT_EVENT_INVALID');

/**
 * Parses one `dmr.audit` message body. Never throws: DMR_AUDIT_EVENT_INVALID for too large, not UTF-8 JSON, or not
 * the schema.
 */
export function parseAuditEvent(body: Uint8Array | string): Result<AuditEvent> {
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  if (size > MAX_AUDIT_EVENT_BYTES) {
    return refuse('DMR_AUDIT_EVENT_INVALID', '', `audit event is ${size} bytes; the limit is ${MAX_AUDIT_EVENT_BYTES}`);
  }
  try {
    const text = typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: true }).decode(body);
    return validateAuditEvent(JSON.parse(text));
  } catch {
    return refuse('DMR_AUDIT_EVENT_INVALID', '', 'audit event is not UTF-8 JSON');
  }
}
