import { describe, expect, it } from 'vitest';
import {
  activeCa,
  type CaRing,
  parseCaRing,
  serialiseCaRing,
  trustedCas,
  withCaActivated,
  withCaAdded,
  withCaRetired,
} from '../../src/domain/index.js';

const one: CaRing = {
  version: 1,
  cas: [
    { id: 'agents-1', purpose: 'agents', status: 'active' },
    { id: 'broker-1', purpose: 'broker', status: 'active' },
  ],
};

function ok<T>(outcome: { ok: true; value: T } | { ok: false; message: string }): T {
  if (!outcome.ok) throw new Error(outcome.message);
  return outcome.value;
}

describe('parseCaRing', () => {
  it('round-trips a ring', () => {
    expect(parseCaRing(serialiseCaRing(one))).toEqual(one);
  });

  it('drops unknown members of entries', () => {
    const text = JSON.stringify({ version: 1, cas: [{ id: 'a', purpose: 'agents', status: 'active', note: 'x' }] });
    expect(parseCaRing(text)).toEqual({ version: 1, cas: [{ id: 'a', purpose: 'agents', status: 'active' }] });
  });

  it.each([
    ['not JSON', '{', 'ring.json is not valid JSON'],
    ['no version', '{"cas":[]}', 'ring.json: expected {"version":1,"cas":[…]}'],
    ['a bad purpose', '{"version":1,"cas":[{"id":"a","purpose":"x","status":"active"}]}', 'ring.json: cas[0] must be'],
    ['a path as id', '{"version":1,"cas":[{"id":"../a","purpose":"agents","status":"active"}]}', 'ring.json: cas[0] must be'],
    [
      'a duplicate id',
      '{"version":1,"cas":[{"id":"a","purpose":"agents","status":"active"},{"id":"a","purpose":"broker","status":"active"}]}',
      'CA id "a" appears twice',
    ],
    [
      'two active agent CAs',
      '{"version":1,"cas":[{"id":"a","purpose":"agents","status":"active"},{"id":"b","purpose":"agents","status":"active"}]}',
      'purpose agents needs exactly one active CA, has 2',
    ],
    ['a purpose without an active CA', '{"version":1,"cas":[{"id":"a","purpose":"agents","status":"published"}]}', 'has 0'],
  ])('refuses %s with DMR_CA_STATE_INVALID', (_name, text, message) => {
    expect(() => parseCaRing(text)).toThrow(
      expect.objectContaining({ code: 'DMR_CA_STATE_INVALID', message: expect.stringContaining(message) }),
    );
  });

  it('accepts a purpose whose CAs are all retired', () => {
    const text = '{"version":1,"cas":[{"id":"a","purpose":"agents","status":"active"},{"id":"b","purpose":"broker","status":"retired"}]}';
    expect(trustedCas(parseCaRing(text)).map((entry) => entry.id)).toEqual(['a']);
  });
});

describe('the change-over', () => {
  it('publishes, switches and retires, keeping one signer per purpose', () => {
    const published = ok(withCaAdded(one, 'agents-2', 'agents'));
    expect(published.cas.at(-1)).toEqual({ id: 'agents-2', purpose: 'agents', status: 'published' });
    expect(activeCa(published, 'agents')?.id).toBe('agents-1');
    expect(trustedCas(published).map((entry) => entry.id)).toEqual(['agents-1', 'broker-1', 'agents-2']);

    const switched = ok(withCaActivated(published, 'agents-2'));
    expect(activeCa(switched, 'agents')?.id).toBe('agents-2');
    expect(switched.cas.find((entry) => entry.id === 'agents-1')?.status).toBe('published');
    expect(activeCa(switched, 'broker')?.id).toBe('broker-1');

    const retired = ok(withCaRetired(switched, 'agents-1'));
    expect(trustedCas(retired).map((entry) => entry.id)).toEqual(['broker-1', 'agents-2']);
    expect(() => parseCaRing(serialiseCaRing(retired))).not.toThrow();
  });

  it('makes the first CA of a purpose active', () => {
    const ring = ok(withCaAdded({ version: 1, cas: [] }, 'agents-1', 'agents'));
    expect(activeCa(ring, 'agents')?.id).toBe('agents-1');
  });

  it.each([
    ['adding a duplicate id', () => withCaAdded(one, 'agents-1', 'agents'), 'CA "agents-1" is already in the ring'],
    ['adding a bad id', () => withCaAdded(one, 'a/b', 'agents'), 'CA id "a/b" must match'],
    ['activating an unknown CA', () => withCaActivated(one, 'nope'), 'no CA "nope" in the ring'],
    ['activating the active CA', () => withCaActivated(one, 'agents-1'), 'CA "agents-1" is active; only a published CA can be activated'],
    [
      'retiring the signing CA',
      () => withCaRetired(one, 'agents-1'),
      'CA "agents-1" is active; only a published (not signing) CA can be retired',
    ],
    ['retiring an unknown CA', () => withCaRetired(one, 'nope'), 'no CA "nope" in the ring'],
  ])('refuses %s', (_name, step, message) => {
    expect(step()).toMatchObject({ ok: false, code: 'DMR_CA_INVALID_REQUEST', field: 'id', message: expect.stringContaining(message) });
  });
});
