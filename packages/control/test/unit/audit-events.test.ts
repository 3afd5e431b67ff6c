import { parseAuditEvent, publishAuditEvent } from '@dmr/shared/audit';
import { describe, expect, it } from 'vitest';
import { encodeEntry, readEntryClaims } from '../../src/audit/index.js';
import { changeToAuditEvent } from '../../src/audit-writer/index.js';
import type { ChangeRecord } from '../../src/store/index.js';

const change: ChangeRecord = {
  seq: 7,
  at: '2026-12-07T12:00:00.000Z',
  actor: { subject: 'alice', role: 'operator' },
  action: 'certificate.issue',
  subjectKind: 'certificate',
  subjectId: '0abc',
  beforeHash: null,
  afterHash: 'f'.repeat(64),
  configVersion: 12,
  outcome: 'applied',
  code: null,
};

describe('audit events', () => {
  it('maps a change-log row to a valid metadata-only event with a deterministic eventId', () => {
    const event = changeToAuditEvent(change);
    expect(event).toEqual({
      v: 1,
      eventId: 'change-log-7',
      at: change.at,
      kind: 'certificate.issued',
      actor: 'operator:alice',
      subject: 'certificate.issue certificate:0abc',
      outcome: 'ok',
      configVersion: 12,
    });
    expect(parseAuditEvent(JSON.stringify(event))).toEqual({ ok: true, value: event });
    const refused = changeToAuditEvent({ ...change, seq: 8, action: 'request.refused', outcome: 'refused', code: 'DMR_CONTROL_FORBIDDEN' });
    expect(refused).toMatchObject({ kind: 'config.changed', outcome: 'refused', code: 'DMR_CONTROL_FORBIDDEN' });
  });

  it('refuses events outside the schema, naming the field, and publishes nothing for them', async () => {
    const bad = parseAuditEvent(JSON.stringify({ ...changeToAuditEvent(change), kind: 'message.read', extra: 1 }));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors.map((e) => e.path)).toEqual(expect.arrayContaining(['kind', 'extra']));
    expect(parseAuditEvent(Buffer.from([0xff, 0xfe]))).toMatchObject({ ok: false, code: 'DMR_AUDIT_EVENT_INVALID' });
    const sent: string[] = [];
    const channel = {
      assertQueue: async () => undefined,
      sendToQueue: (_q: string, body: Buffer, _o: unknown, done: (error: unknown) => void) => {
        sent.push(body.toString());
        done(null);
        return true;
      },
    };
    await expect(publishAuditEvent(channel, { ...changeToAuditEvent(change), actor: '' })).rejects.toMatchObject({
      code: 'DMR_AUDIT_EVENT_INVALID',
    });
    expect(sent).toEqual([]);
  });

  it('encodes an entry as canonical JSON of {seq, event} and reads its claims back', () => {
    const event = changeToAuditEvent(change);
    const entry = encodeEntry(3, event);
    expect(entry.body.startsWith('{"event":{"actor":"operator:alice"')).toBe(true);
    expect(entry.body.endsWith(',"seq":3}')).toBe(true);
    expect(readEntryClaims(entry.body)).toEqual({ seq: 3, eventId: 'change-log-7' });
    expect(readEntryClaims('not json')).toBeUndefined();
  });
});
