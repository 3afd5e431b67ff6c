import { beforeAll, describe, expect, it } from 'vitest';
import { AgentDirectory } from '../../src/link/index.js';
import { generateKeys, type TestKeys } from '../helpers/keys.js';

const entry = (id: string, authenticationCertificate: string, deleted?: boolean) => ({
  id,
  name: id,
  authenticationCertificate,
  createdAt: '2024-01-15T10:00:00.000Z',
  updatedAt: '2024-01-15T10:00:00.000Z',
  ...(deleted === undefined ? {} : { deleted }),
});

describe('AgentDirectory', () => {
  let a: TestKeys;
  let b: TestKeys;

  beforeAll(() => {
    a = generateKeys('ec');
    b = generateKeys('rsa');
  });

  it('replaces everything on a full list and skips entries whose key cannot be imported', () => {
    const directory = new AgentDirectory();
    directory.replaceAll([entry('old', a.publicPem)]);
    const update = directory.replaceAll([
      entry('a', a.publicPem),
      entry('b', b.publicPem),
      entry('broken', 'not a key'),
      { name: 'no id' },
    ]);

    expect(update).toMatchObject({ applied: 2, removed: 1 });
    expect(update.skipped.map((skipped) => skipped.id)).toEqual(['broken', '?']);
    expect(directory.keyFor('a')?.kind).toBe('ec-p256');
    expect(directory.keyFor('b')?.kind).toBe('rsa');
    expect(directory.keyFor('old')).toBeUndefined();
    expect(directory.keyFor('broken')).toBeUndefined();
    expect(directory.size).toBe(2);
  });

  it('applies partial lists: adds, replaces and deletes', () => {
    const directory = new AgentDirectory();
    directory.replaceAll([entry('a', a.publicPem)]);
    directory.applyPartial([entry('b', b.publicPem)]);
    expect(directory.keyFor('b')?.kind).toBe('rsa');

    directory.applyPartial([entry('a', b.publicPem), entry('b', '', true)]);
    expect(directory.keyFor('a')?.kind).toBe('rsa');
    expect(directory.keyFor('b')).toBeUndefined();
  });

  it('drops an agent whose replacement key is bad rather than trusting the old key', () => {
    const directory = new AgentDirectory();
    directory.replaceAll([entry('a', a.publicPem)]);
    const update = directory.applyPartial([entry('a', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----')]);

    expect(update.skipped).toHaveLength(1);
    expect(directory.keyFor('a')).toBeUndefined();
  });

  it('ignores a list that is not an array', () => {
    const directory = new AgentDirectory();
    expect(directory.replaceAll({ id: 'a' })).toEqual({ applied: 0, removed: 0, skipped: [] });
  });
});
