// Issue 18: what a server accepts from the dmr.control exchange. Anyone who can publish there (a broker administrator,
// a compromised account) must not be able to crash a server: every input is answered with a value, never a throw.
import { knownKindsOf, MAX_ANNOUNCEMENT_BYTES, parseControlAnnouncement, ServerReport } from '@dmr/shared';
import { Compile } from 'typebox/compile';
import { describe, expect, it } from 'vitest';

const valid = { configVersion: 42, kinds: ['registry', 'crl'], at: '2026-12-07T12:00:00.000Z' };
const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('parseControlAnnouncement', () => {
  it('accepts the contract shape, from bytes or text, and tolerates extra members', () => {
    expect(parseControlAnnouncement(bytes(valid))).toEqual({ ok: true, value: valid });
    expect(parseControlAnnouncement(JSON.stringify(valid))).toEqual({ ok: true, value: valid });
    expect(parseControlAnnouncement(bytes({ ...valid, origin: 'control-1' })).ok).toBe(true);
  });

  it('refuses wrong types and missing fields with DMR_CONTROL_ANNOUNCEMENT_INVALID, naming the field', () => {
    const cases: Array<[unknown, string]> = [
      [{ ...valid, configVersion: -1 }, 'configVersion'],
      [{ ...valid, configVersion: 1.5 }, 'configVersion'],
      [{ ...valid, configVersion: '42' }, 'configVersion'],
      [{ ...valid, configVersion: 2 ** 60 }, 'configVersion'],
      [{ ...valid, kinds: [] }, 'kinds'],
      [{ ...valid, kinds: 'registry' }, 'kinds'],
      [{ ...valid, kinds: ['REGISTRY'] }, 'kinds.0'],
      [{ ...valid, kinds: Array.from({ length: 17 }, () => 'crl') }, 'kinds'],
      [{ ...valid, at: 'yesterday' }, 'at'],
      [{ kinds: ['registry'], at: valid.at }, 'configVersion'],
    ];
    for (const [value, path] of cases) {
      const parsed = parseControlAnnouncement(bytes(value));
      expect(parsed.ok, JSON.stringify(value)).toBe(false);
      if (!parsed.ok) {
        expect(parsed.code).toBe('DMR_CONTROL_ANNOUNCEMENT_INVALID');
        expect(parsed.errors.map((error) => error.path)).toContain(path);
      }
    }
  });

  it('answers bytes that are not JSON, not UTF-8, not an object or too large with a refusal, never a throw', () => {
    const inputs: Array<Uint8Array | string> = [
      Buffer.from([0xff, 0xfe, 0x00]),
      Buffer.from('{"configVersion":'),
      Buffer.alloc(0),
      'null',
      '[]',
      '"registry"',
      '1e999',
      `{"configVersion":1,"kinds":["registry"],"at":"${valid.at}","pad":"${'x'.repeat(MAX_ANNOUNCEMENT_BYTES)}"}`,
      '['.repeat(100_000),
    ];
    for (const input of inputs) {
      const parsed = parseControlAnnouncement(input);
      expect(parsed).toMatchObject({ ok: false, code: 'DMR_CONTROL_ANNOUNCEMENT_INVALID' });
    }
    const tooLarge = parseControlAnnouncement(Buffer.alloc(MAX_ANNOUNCEMENT_BYTES + 1, 0x20));
    expect(tooLarge.ok ? '' : tooLarge.errors[0]?.message).toContain(`the limit is ${MAX_ANNOUNCEMENT_BYTES}`);
  });
});

describe('knownKindsOf', () => {
  it('keeps the kinds this build knows once each, in contract order, and ignores newer ones', () => {
    expect(knownKindsOf({ kinds: ['peers', 'audit-trail', 'registry', 'registry'] })).toEqual(['registry', 'peers']);
    expect(knownKindsOf({ kinds: ['something-new'] })).toEqual([]);
  });
});

describe('ServerReport', () => {
  const check = Compile(ServerReport);
  it('is the PUT /v1/servers/{instanceId} body: a version or null, CRL numbers per issuer as decimal strings', () => {
    const report = {
      configVersion: 7,
      crlNumbers: [{ issuer: 'CN=DMR Agents CA', crlNumber: '12' }],
      version: '0.1.0',
      startedAt: '2026-12-07T12:00:00.000Z',
    };
    expect(check.Check(report)).toBe(true);
    expect(check.Check({ ...report, configVersion: null, crlNumbers: [{ issuer: 'CN=x', crlNumber: null }] })).toBe(true);
    expect(check.Check({ ...report, crlNumbers: [{ issuer: 'CN=x', crlNumber: 12 }] })).toBe(false);
  });
});
