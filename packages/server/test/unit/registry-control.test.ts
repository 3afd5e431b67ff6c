// Issue 18: what the registry takes from dmr-control's `dmr` member (configVersion, disabled agents), which versions
// may replace the one in force, and which certificate changes count as a re-key (the agent must reconnect) or only as
// an update (a renewal with the same key pair keeps the agent connected).
import { generateKeyPairSync } from 'node:crypto';
import { TestCa } from '@dmr/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  diffRegistry,
  isNewerVersion,
  judgeConfigVersion,
  judgeRegistryChange,
  parseRegistry,
  parseRegistryDocument,
  type RegistrySnapshot,
} from '../../src/registry/index.js';

const pair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const entry = (id: string, certificate: string, overrides: Record<string, string> = {}) => ({
  id,
  name: id,
  authentication_certificate: certificate,
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
  ...overrides,
});
const snapshotOf = (document: unknown): RegistrySnapshot => {
  const parsed = parseRegistry(document);
  if (!parsed.ok) throw new Error(`bad fixture: ${JSON.stringify(parsed.errors)}`);
  return parsed.value;
};

describe('re-key or renewal (SPKI comparison)', () => {
  let ca: TestCa;
  beforeAll(async () => {
    ca = await TestCa.create('DMR Agents CA');
  });

  it('counts a renewed certificate for the same key as an update, so the agent is not cut off', async () => {
    const key = pair().publicKey;
    const [issued, renewed] = [await ca.agentCertificate('a', key), await ca.agentCertificate('a', key)];
    expect(renewed).not.toBe(issued);
    const diff = diffRegistry(
      snapshotOf({ response: [entry('a', issued)] }),
      snapshotOf({ response: [entry('a', renewed, { updated_at: '2026-02-01T00:00:00.000Z' })] }),
    );
    expect(diff.rekeyed).toEqual([]);
    expect(diff.updated.map((agent) => agent.info.authenticationCertificate)).toEqual([renewed]);
  });

  it('counts a certificate for another key as a re-key, even under the same name and dates', async () => {
    const diff = diffRegistry(
      snapshotOf({ response: [entry('a', await ca.agentCertificate('a', pair().publicKey))] }),
      snapshotOf({ response: [entry('a', await ca.agentCertificate('a', pair().publicKey))] }),
    );
    expect(diff.rekeyed.map((agent) => agent.info.id)).toEqual(['a']);
    expect(diff.updated).toEqual([]);
  });

  it('counts a bare public key replaced by a certificate of that key as an update, and the same key re-encoded as nothing to cut', async () => {
    const key = pair().publicKey;
    const spki = key.export({ type: 'spki', format: 'pem' }).toString();
    const before = snapshotOf({ response: [entry('a', spki)] });
    const certified = diffRegistry(before, snapshotOf({ response: [entry('a', await ca.agentCertificate('a', key))] }));
    expect([certified.rekeyed, certified.updated.length]).toEqual([[], 1]);
    const crlf = diffRegistry(before, snapshotOf({ response: [entry('a', spki.replaceAll('\n', '\r\n'))] }));
    expect(crlf.rekeyed).toEqual([]);
  });
});

describe('parseRegistryDocument', () => {
  const key = pair().publicKey.export({ type: 'spki', format: 'pem' }).toString();

  it('reads a seed-003 document without the dmr member as unversioned with no disabled agent', () => {
    const parsed = parseRegistryDocument({ response: [entry('a', key)] });
    expect(parsed).toMatchObject({ ok: true, value: { configVersion: undefined, disabled: new Set() } });
  });

  it('reads configVersion and disabled ids from the dmr member and ignores members it does not know', () => {
    const parsed = parseRegistryDocument({ response: [entry('a', key)], dmr: { configVersion: 12, disabled: ['b', 'c'], future: 1 } });
    expect(parsed.ok && [parsed.value.configVersion, [...parsed.value.disabled], [...parsed.value.agents.keys()]]).toEqual([
      12,
      ['b', 'c'],
      ['a'],
    ]);
  });

  it('refuses a malformed dmr member and an agent both listed and disabled, naming the field', () => {
    const bad: Array<[unknown, string]> = [
      [{ response: [], dmr: { configVersion: -1 } }, 'dmr.configVersion'],
      [{ response: [], dmr: { configVersion: '3' } }, 'dmr.configVersion'],
      [{ response: [], dmr: { disabled: [] } }, 'dmr.configVersion'],
      [{ response: [], dmr: { configVersion: 1, disabled: ['no spaces'] } }, 'dmr.disabled.0'],
      [{ response: [entry('a', key)], dmr: { configVersion: 1, disabled: ['a'] } }, 'dmr.disabled.0'],
    ];
    for (const [document, path] of bad) {
      const parsed = parseRegistryDocument(document);
      expect(parsed.ok, JSON.stringify(document)).toBe(false);
      if (!parsed.ok) expect(parsed.errors.map((error) => error.path)).toContain(path);
    }
  });
});

describe('config version ordering', () => {
  it('moves only forward: the same or a newer version is taken, an older one refused with DMR_REGISTRY_STALE_VERSION', () => {
    expect(judgeConfigVersion(undefined, 3, false)).toEqual({ ok: true });
    expect(judgeConfigVersion(undefined, undefined, false)).toEqual({ ok: true });
    expect(judgeConfigVersion(3, 3, false)).toEqual({ ok: true });
    expect(judgeConfigVersion(3, 4, false)).toEqual({ ok: true });
    expect(judgeConfigVersion(4, 3, false)).toEqual({
      ok: false,
      code: 'DMR_REGISTRY_STALE_VERSION',
      reason: 'the agent registry is at configVersion 3, older than version 4 in force',
    });
  });

  it('refuses an unversioned document after a versioned one unless forced (SIGHUP), and forced takes an older one too', () => {
    expect(judgeConfigVersion(4, undefined, false)).toMatchObject({ ok: false, code: 'DMR_REGISTRY_STALE_VERSION' });
    expect(judgeConfigVersion(4, undefined, true)).toEqual({ ok: true });
    expect(judgeConfigVersion(4, 1, true)).toEqual({ ok: true });
  });

  it('asks for a re-read only for a newer announced version', () => {
    expect(isNewerVersion(5, undefined)).toBe(true);
    expect(isNewerVersion(5, 4)).toBe(true);
    expect(isNewerVersion(5, 5)).toBe(false);
    expect(isNewerVersion(4, 5)).toBe(false);
  });
});

describe('mass-removal guard with disabled agents', () => {
  const key = pair().publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const rules = { allowEmpty: false, maxRemovedShare: 0.5 };

  it('does not count agents disabled on purpose as removed, but still counts the others', () => {
    const five = snapshotOf({ response: ['a', 'b', 'c', 'd', 'e'].map((id) => entry(id, key)) });
    const one = snapshotOf({ response: [entry('a', key)] });
    const diff = diffRegistry(five, one);
    expect(judgeRegistryChange(five, one, diff, rules, false, new Set(['b', 'c', 'd', 'e']))).toEqual({ ok: true });
    expect(judgeRegistryChange(five, one, diff, rules, false, new Set(['b']))).toMatchObject({
      ok: false,
      code: 'DMR_REGISTRY_MASS_REMOVAL',
      reason: expect.stringContaining('would remove 3 of 5 agents') as unknown as string,
    });
  });
});
