import { describe, expect, it } from 'vitest';
import { caPaths, keyModeProblem, leafPaths, PRIVATE_FILE_MODE, PUBLIC_FILE_MODE } from '../../src/index.js';

describe('file layout', () => {
  it('names the CA files inside the CA directory', () => {
    expect(caPaths('/srv/ca')).toEqual({
      dir: '/srv/ca',
      key: '/srv/ca/ca.key.pem',
      certificate: '/srv/ca/ca.cert.pem',
      state: '/srv/ca/ca-state.json',
      crl: '/srv/ca/crl.pem',
      lock: '/srv/ca/ca.lock',
    });
  });

  it('names a leaf pair after its base name', () => {
    expect(leafPaths('/out', 'agent-a1')).toEqual({ certificate: '/out/agent-a1.cert.pem', key: '/out/agent-a1.key.pem' });
  });

  it.each(['../ca', 'a/b', '.hidden', '', 'a b'])('refuses base name %j', (name) => {
    expect(() => leafPaths('/out', name)).toThrow(expect.objectContaining({ code: 'DMR_CA_INVALID_REQUEST' }));
  });

  it('uses 0600 for secrets and 0644 for public material', () => {
    expect(PRIVATE_FILE_MODE).toBe(0o600);
    expect(PUBLIC_FILE_MODE).toBe(0o644);
  });
});

describe('keyModeProblem', () => {
  it.each([0o600, 0o400, 0o700, 0o100600])('accepts %o', (mode) => {
    expect(keyModeProblem(mode)).toBeUndefined();
  });

  it.each([0o640, 0o604, 0o644, 0o660, 0o666, 0o602])('refuses %o', (mode) => {
    expect(keyModeProblem(mode)).toMatch(/group or others/);
  });
});
