import { X509Certificate } from 'node:crypto';
import { formatPemBlock, pemBlocks, pemCertificates, withFinalNewline } from '@dmr/shared';
import { TestCa } from '@dmr/testkit';
import { beforeAll, describe, expect, it } from 'vitest';

describe('PEM bundles as operators concatenate them', () => {
  let first: TestCa;
  let second: TestCa;
  beforeAll(async () => {
    [first, second] = await Promise.all([TestCa.create(), TestCa.create()]);
  });

  it('finds both certificates when the files were concatenated without a newline between them', () => {
    const glued = `${first.pem.trim()}${second.pem.trim()}`;
    expect(glued).toContain('-----END CERTIFICATE----------BEGIN CERTIFICATE-----');
    const subjects = pemCertificates(glued).map((pem) => new X509Certificate(pem).fingerprint256);
    expect(subjects).toEqual([new X509Certificate(first.pem).fingerprint256, new X509Certificate(second.pem).fingerprint256]);
  });

  it('writes each block out in canonical form: 64-column lines and a final newline', () => {
    const [pem] = pemCertificates(`  \r\n${first.pem.replace(/\n/g, '\r\n')}`);
    expect(pem).toBe(`${first.pem.trim()}\n`);
    for (const line of (pem ?? '').split('\n')) expect(line.length).toBeLessThanOrEqual(64);
  });

  it('ignores text between blocks and blocks of other labels, and marks a broken certificate block', () => {
    const bundle = `subject=CN = one\n${first.pem}\n-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----`;
    expect(pemBlocks(bundle).map((block) => block.label)).toEqual(['CERTIFICATE', 'PUBLIC KEY', 'CERTIFICATE']);
    expect(pemCertificates(bundle)).toEqual([`${first.pem.trim()}\n`, '']);
  });

  it('marks a block whose END line is missing instead of merging it silently into the next', () => {
    const truncated = `${first.pem.trim().replace('-----END CERTIFICATE-----', '')}\n${second.pem}`;
    expect(pemCertificates(truncated)).toEqual(['']);
  });

  it('finds nothing in text without PEM blocks', () => {
    expect(pemCertificates('')).toEqual([]);
    expect(pemCertificates('-----BEGIN CERTIFICATE-----\nAAAA')).toEqual([]);
  });

  it('formats and terminates PEM text', () => {
    expect(formatPemBlock({ label: 'X', base64: 'A'.repeat(70) })).toBe(`-----BEGIN X-----\n${'A'.repeat(64)}\nAAAAAA\n-----END X-----\n`);
    expect(withFinalNewline('abc')).toBe('abc\n');
    expect(withFinalNewline('abc\n')).toBe('abc\n');
  });
});
