import { type PeerTrustPolicy, parseTrustAnchors } from '@dmr/shared';
import { selfSignedAgentCertificate, TestCa, testKeyPair, windowDays } from '@dmr/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { AgentDirectory } from '../../src/link/index.js';

const entry = (id: string, authenticationCertificate: string, deleted?: boolean) => ({
  id,
  name: id,
  authenticationCertificate,
  createdAt: '2024-01-15T10:00:00.000Z',
  updatedAt: '2024-01-15T10:00:00.000Z',
  ...(deleted === undefined ? {} : { deleted }),
});

const ecKeys = testKeyPair('ec');
const rsaKeys = testKeyPair('rsa');
const DAY_MS = 86_400_000;

describe('AgentDirectory', () => {
  let ca: TestCa;
  let trust: PeerTrustPolicy;
  const cert = (id: string, keys = ecKeys) => ca.agentCertificate(id, keys.publicKey);

  beforeAll(async () => {
    ca = await TestCa.create();
    trust = { anchors: parseTrustAnchors(ca.pem), legacyAgentIds: new Set(), allowUnverified: false };
  });

  it('answers disabled for an agent a live delta removed as disabled, until it is listed again or a full list comes', async () => {
    const directory = new AgentDirectory({ trust });
    directory.replaceAll([entry('a', await cert('a')), entry('b', await cert('b'))]);
    directory.applyPartial([{ ...entry('b', ''), deleted: true, disabled: true }, entry('c', '', true)]);
    expect(directory.lookup('b')).toEqual({ status: 'disabled' });
    expect(directory.lookup('c')).toEqual({ status: 'unknown' });
    directory.applyPartial([entry('b', await cert('b'))]);
    expect(directory.lookup('b').status).toBe('trusted');
    directory.applyPartial([{ ...entry('b', ''), deleted: true, disabled: true }]);
    directory.replaceAll([entry('a', await cert('a'))]);
    expect(directory.lookup('b')).toEqual({ status: 'unknown' });
  });

  it('answers disabled for the agents a full list names disabled, until a later list lists them or names them no more', async () => {
    const directory = new AgentDirectory({ trust });
    directory.replaceAll([entry('a', await cert('a'))], ['b']);
    expect(directory.lookup('b')).toEqual({ status: 'disabled' });
    expect(directory.lookup('c')).toEqual({ status: 'unknown' });
    // an id both listed and named disabled is listed (the server never sends both)
    directory.replaceAll([entry('a', await cert('a')), entry('b', await cert('b'))], ['b']);
    expect(directory.lookup('b').status).toBe('trusted');
    directory.replaceAll([entry('a', await cert('a'))], ['b']);
    directory.applyPartial([entry('b', await cert('b'))]);
    expect(directory.lookup('b').status).toBe('trusted');
    directory.replaceAll([entry('a', await cert('a'))]);
    expect(directory.lookup('b')).toEqual({ status: 'unknown' });
  });

  it('judges every listed entry again when the trust anchors change (a CA change-over), keys of a dropped CA included', async () => {
    const next = await TestCa.create('DMR next CA');
    const directory = new AgentDirectory({ trust });
    directory.replaceAll([entry('a', await cert('a')), entry('b', await next.agentCertificate('b', ecKeys.publicKey))]);
    expect(directory.lookup('b').status).toBe('untrusted');
    // published: both CAs are anchors; b (renewed onto the new CA before this agent heard of it) becomes usable
    const both = { ...trust, anchors: parseTrustAnchors(ca.pem + next.pem) };
    expect(directory.retrust(both)).toEqual({ trusted: 2, untrusted: 0 });
    expect(directory.lookup('b')).toMatchObject({ status: 'trusted', basis: 'certificate' });
    // retired: the old CA is no anchor any more, so a's certificate of it is refused, not kept from before
    expect(directory.retrust({ ...trust, anchors: parseTrustAnchors(next.pem) })).toEqual({ trusted: 1, untrusted: 1 });
    expect(directory.lookup('a').status).toBe('untrusted');
    // removed entries are not brought back by a retrust
    directory.applyPartial([entry('b', '', true)]);
    expect(directory.retrust(both)).toEqual({ trusted: 1, untrusted: 0 });
    expect(directory.lookup('b')).toEqual({ status: 'unknown' });
  });

  it('replaces everything on a full list and keeps entries whose key cannot be used as untrusted', async () => {
    const directory = new AgentDirectory({ trust });
    directory.replaceAll([entry('old', await cert('old'))]);
    const update = directory.replaceAll([
      entry('a', await cert('a')),
      entry('b', await cert('b', rsaKeys)),
      entry('broken', 'not a key'),
      { name: 'no id' },
    ]);

    expect(update).toMatchObject({ applied: 2, removed: 1 });
    expect(update.skipped.map((skipped) => skipped.id)).toEqual(['broken', '?']);
    expect(directory.lookup('a')).toMatchObject({ status: 'trusted', basis: 'certificate', key: { kind: 'ec-p256' } });
    expect(directory.lookup('b')).toMatchObject({ status: 'trusted', key: { kind: 'rsa' } });
    expect(directory.lookup('old')).toEqual({ status: 'unknown' });
    expect(directory.lookup('broken')).toMatchObject({ status: 'untrusted' });
    expect(directory.size).toBe(3);
  });

  it('applies partial lists: adds, replaces and deletes', async () => {
    const directory = new AgentDirectory({ trust });
    directory.replaceAll([entry('a', await cert('a'))]);
    directory.applyPartial([entry('b', await cert('b', rsaKeys))]);
    expect(directory.lookup('b')).toMatchObject({ status: 'trusted', key: { kind: 'rsa' } });

    directory.applyPartial([entry('a', await cert('a', rsaKeys)), entry('b', '', true)]);
    expect(directory.lookup('a')).toMatchObject({ status: 'trusted', key: { kind: 'rsa' } });
    expect(directory.lookup('b')).toEqual({ status: 'unknown' });
  });

  describe('a relay that swaps a key', () => {
    it('is refused in a full list: the swapped key is never handed out, nor the old one', async () => {
      const directory = new AgentDirectory({ trust });
      directory.replaceAll([entry('b', await cert('b'))]);
      const swapped = testKeyPair('ec');
      const update = directory.replaceAll([entry('b', swapped.publicPem)]);

      expect(update.skipped).toEqual([{ id: 'b', reason: expect.stringMatching(/bare public key/) }]);
      expect(directory.lookup('b')).toMatchObject({ status: 'untrusted', reason: expect.stringMatching(/bare public key/) });
    });

    it('is refused in a partial list, also as a self-signed certificate with the right SAN', async () => {
      const directory = new AgentDirectory({ trust });
      directory.replaceAll([entry('b', await cert('b'))]);
      const swapped = testKeyPair('ec');
      directory.applyPartial([entry('b', await selfSignedAgentCertificate('b', swapped.publicKey))]);

      expect(directory.lookup('b')).toMatchObject({ status: 'untrusted', reason: expect.stringMatching(/does not chain to the DMR CA/) });
    });

    it("is refused when it moves a valid certificate of one agent to another agent's entry", async () => {
      const directory = new AgentDirectory({ trust });
      directory.replaceAll([entry('b', await cert('mallory'))]);
      expect(directory.lookup('b')).toMatchObject({ status: 'untrusted', reason: expect.stringMatching(/names agent mallory/) });
    });

    it('is recovered from when the registry sends a certificate again', async () => {
      const directory = new AgentDirectory({ trust });
      directory.replaceAll([entry('b', ecKeys.publicPem)]);
      directory.applyPartial([entry('b', await cert('b'))]);
      expect(directory.lookup('b')).toMatchObject({ status: 'trusted' });
    });
  });

  it('trusts a bare key only for an agent marked legacy', () => {
    const directory = new AgentDirectory({ trust: { ...trust, legacyAgentIds: new Set(['seed']) } });
    directory.replaceAll([entry('seed', ecKeys.publicPem), entry('modern', ecKeys.publicPem)]);
    expect(directory.lookup('seed')).toMatchObject({ status: 'trusted', basis: 'legacy-key' });
    expect(directory.lookup('modern')).toMatchObject({ status: 'untrusted' });
  });

  it('stops trusting a certificate once it expires, without a new list', async () => {
    let nowMs = Date.now();
    const directory = new AgentDirectory({ trust, now: () => nowMs });
    directory.replaceAll([entry('a', await ca.agentCertificate('a', ecKeys.publicKey, { window: windowDays(-1, 2, nowMs) }))]);
    expect(directory.lookup('a').status).toBe('trusted');
    nowMs += 3 * DAY_MS;
    expect(directory.lookup('a')).toMatchObject({ status: 'untrusted', reason: expect.stringMatching(/expired at/) });
  });

  it('ignores a list that is not an array', () => {
    const directory = new AgentDirectory({ trust });
    expect(directory.replaceAll({ id: 'a' })).toEqual({ applied: 0, removed: 0, skipped: [] });
  });
});
