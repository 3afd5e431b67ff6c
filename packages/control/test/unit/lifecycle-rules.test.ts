import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  API_REVOCATION_REASONS,
  CRL_CLOCK_SKEW_MS,
  checkRenewingCertificate,
  checkSameKey,
  crlWindowAt,
  enrollmentTokenExpiry,
  hashEnrollmentToken,
  isCrlDue,
  isWellFormedEnrollmentToken,
  newEnrollmentToken,
  parseApiRevocationReason,
  type RenewingCertificate,
} from '../../src/domain/index.js';

const now = new Date('2026-12-07T12:00:00.000Z');
const HOUR = 3_600_000;

describe('enrollment tokens', () => {
  it('are 256 random bits as 43 base64url characters', () => {
    const token = newEnrollmentToken(() => new Uint8Array(32).fill(0xff));
    expect(token).toBe(`${'_'.repeat(42)}8`);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(isWellFormedEnrollmentToken(newEnrollmentToken())).toBe(true);
    expect(newEnrollmentToken()).not.toBe(newEnrollmentToken());
  });

  it.each(['', 'short', `${'a'.repeat(42)}=`, `${'a'.repeat(44)}`, `${'a'.repeat(42)}+`])('recognises %j as malformed', (value) => {
    expect(isWellFormedEnrollmentToken(value)).toBe(false);
  });

  it('hash to the SHA-256 hex of the text and expire after the TTL', () => {
    expect(hashEnrollmentToken('abc')).toBe(createHash('sha256').update('abc').digest('hex'));
    expect(enrollmentTokenExpiry(now, HOUR).toISOString()).toBe('2026-12-07T13:00:00.000Z');
  });
});

describe('CRL schedule', () => {
  it('backdates thisUpdate and ends after the validity', () => {
    const window = crlWindowAt(now, 7 * 24 * HOUR);
    expect(now.getTime() - window.thisUpdate.getTime()).toBe(CRL_CLOCK_SKEW_MS);
    expect(window.nextUpdate.toISOString()).toBe('2026-12-14T12:00:00.000Z');
  });

  it('is due without a CRL and within the margin before nextUpdate, not before', () => {
    const margin = 84 * HOUR;
    expect(isCrlDue(undefined, now, margin)).toBe(true);
    expect(isCrlDue({ nextUpdate: new Date(now.getTime() + margin + 1) }, now, margin)).toBe(false);
    expect(isCrlDue({ nextUpdate: new Date(now.getTime() + margin) }, now, margin)).toBe(false);
    expect(isCrlDue({ nextUpdate: new Date(now.getTime() + margin - 1) }, now, margin)).toBe(true);
    expect(isCrlDue({ nextUpdate: new Date(now.getTime() - 1) }, now, margin)).toBe(true);
  });
});

describe('renewal rules', () => {
  const current: RenewingCertificate = {
    serial: '0abc',
    subjectKind: 'agent',
    subjectId: 'a-1',
    notBefore: '2026-12-01T00:00:00.000Z',
    notAfter: '2027-03-01T00:00:00.000Z',
    revokedAt: null,
    publicKeySha256: 'k1',
  };

  it('lets a valid agent, server or relay-user certificate renew its own identity', () => {
    expect(checkRenewingCertificate(current, now)).toEqual({ ok: true, value: { kind: 'agent', id: 'a-1' } });
    expect(checkRenewingCertificate({ ...current, subjectKind: 'server', subjectId: 'dmr-1' }, now)).toMatchObject({ ok: true });
    expect(checkRenewingCertificate({ ...current, subjectKind: 'relay-user', subjectId: 'dmr-relay' }, now)).toMatchObject({ ok: true });
  });

  it.each([
    ['an unknown certificate', undefined, 'DMR_CONTROL_CERTIFICATE_UNKNOWN'],
    ['an admin certificate', { ...current, subjectKind: 'admin' }, 'DMR_CONTROL_CERTIFICATE_UNKNOWN'],
    ['a revoked certificate', { ...current, revokedAt: '2026-12-02T00:00:00.000Z' }, 'DMR_CONTROL_CERTIFICATE_REVOKED'],
    ['an expired certificate', { ...current, notAfter: now.toISOString() }, 'DMR_CONTROL_CERTIFICATE_EXPIRED'],
    ['a not yet valid certificate', { ...current, notBefore: '2026-12-07T12:00:00.001Z' }, 'DMR_CONTROL_CERTIFICATE_EXPIRED'],
  ])('refuses %s', (_name, record, code) => {
    expect(checkRenewingCertificate(record, now)).toMatchObject({ ok: false, code });
  });

  it('keeps the key pair', () => {
    expect(checkSameKey('k1', 'k1')).toBeUndefined();
    expect(checkSameKey('k1', 'k2')).toMatchObject({ ok: false, code: 'DMR_CONTROL_RENEWAL_KEY_CHANGED', field: 'csr' });
  });
});

describe('revocation reasons', () => {
  it('accepts the RFC 5280 names but certificateHold', () => {
    for (const reason of API_REVOCATION_REASONS) expect(parseApiRevocationReason(reason)).toEqual({ ok: true, value: reason });
    expect(API_REVOCATION_REASONS).toHaveLength(8);
  });

  it.each(['certificateHold', 'removeFromCRL', 'KEYCOMPROMISE', 1, undefined])('refuses %j naming the field reason', (value) => {
    expect(parseApiRevocationReason(value)).toMatchObject({ ok: false, code: 'DMR_CA_INVALID_REQUEST', field: 'reason' });
  });
});
