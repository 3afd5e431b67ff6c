// dmr-control's own audit events: every change-log row (configuration and policy changes, certificate issue, renew,
// revoke and enrollment, refused requests) as one dmr.audit event. eventId `change-log-<seq>` is deterministic, so a
// row published twice (a restart between publish and the writer's commit) is stored once.

import type { AuditEvent, AuditKind } from '@dmr/shared/audit';
import type { ChangeRecord } from '../store/index.js';

/** The eventId prefix of change-log events. */
export const CHANGE_LOG_EVENT_PREFIX = 'change-log-';

const KIND_OF_ACTION: Readonly<Record<string, AuditKind>> = {
  'policy.create': 'policy.changed',
  'certificate.issue': 'certificate.issued',
  'certificate.renew': 'certificate.renewed',
  'certificate.revoke': 'certificate.revoked',
  'certificate.enroll': 'agent.enrolled',
};

/** The audit event of one change-log row: metadata only (actor, subject, outcome, code, configVersion). */
export function changeToAuditEvent(change: ChangeRecord): AuditEvent {
  const event: AuditEvent = {
    v: 1,
    eventId: `${CHANGE_LOG_EVENT_PREFIX}${change.seq}`,
    at: change.at,
    kind: KIND_OF_ACTION[change.action] ?? 'config.changed',
    actor: `${change.actor.role}:${change.actor.subject}`.slice(0, 256),
    subject: `${change.action} ${change.subjectKind}${change.subjectId === null ? '' : `:${change.subjectId}`}`.slice(0, 512),
    outcome: change.outcome === 'applied' ? 'ok' : 'refused',
    configVersion: change.configVersion,
  };
  return change.code === null ? event : { ...event, code: change.code };
}
