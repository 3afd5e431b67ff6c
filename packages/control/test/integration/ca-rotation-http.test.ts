/**
 * `POST /v1/ca/rotation` on a running dmr-control over mutual TLS (issue 18, trust-anchor change-over): publish,
 * activate and retire as an admin, each in the change log under that admin; `GET /v1/ca-certificates` names the
 * signing CA in `X-DMR-Active-CA`; refusals name the field; operators may not; a retired CA's admin is refused.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCaToRing, issueAdminCertificate } from '../../src/ca/index.js';
import { type ClientCert, type ControlFixture, call, startControl } from './helpers/control-fixture.js';
import { makeTempDir } from './helpers/temp-dir.js';

describe('the CA change-over through POST /v1/ca/rotation', () => {
  let fixture: ControlFixture;
  let ringDir: string;
  let tempPath: string;
  let removeRing: () => Promise<void>;
  let admin: ClientCert;

  async function clientOf(caId: string, role: 'admin' | 'operator', person: string): Promise<ClientCert> {
    const issued = await issueAdminCertificate(join(ringDir, caId), role, person, { outDir: join(tempPath, person) });
    return { cert: issued.certificatePem, key: await readFile(issued.keyPath as string, 'utf8') };
  }

  const rotate = (client: ClientCert, body: Record<string, unknown>) =>
    call(fixture, { method: 'POST', path: '/v1/ca/rotation', client, body });
  const fingerprintOf = (caId: string) =>
    readFile(join(ringDir, caId, 'ca.cert.pem'), 'utf8').then((pem) => new X509Certificate(pem).fingerprint256);

  beforeAll(async () => {
    const temp = await makeTempDir('rotation');
    tempPath = temp.path;
    ringDir = join(temp.path, 'ring');
    removeRing = temp.remove;
    await addCaToRing(ringDir, { id: 'agents-1', purpose: 'agents', commonName: 'Rotation Agents CA 1' });
    admin = await clientOf('agents-1', 'admin', 'rotation.admin');
    fixture = await startControl({ DMR_CONTROL_CA_DIR: ringDir, DMR_TLS_CA_FILE: '' });
  });

  afterAll(async () => {
    await fixture?.stop();
    await removeRing?.();
  });

  it('publishes, activates and retires, each recorded under the admin, the signing CA named on the bundle', async () => {
    const before = await call(fixture, { path: '/v1/ca-certificates' });
    expect(before.headers['x-dmr-active-ca']).toBe(await fingerprintOf('agents-1'));

    const published = await rotate(admin, { step: 'publish', caId: 'agents-2', commonName: 'Rotation Agents CA 2' });
    expect(published.status).toBe(200);
    expect(published.json).toMatchObject({
      step: 'publish',
      caId: 'agents-2',
      ring: {
        cas: [
          { id: 'agents-1', status: 'active' },
          { id: 'agents-2', purpose: 'agents', status: 'published' },
        ],
      },
    });
    const overlap = await call(fixture, { path: '/v1/ca-certificates' });
    expect(overlap.text.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(overlap.headers['x-dmr-active-ca']).toBe(await fingerprintOf('agents-1'));
    // the new CA's first CRL is signed with the step: servers trusting it can verify its agents at once
    expect((await call(fixture, { path: '/v1/crl' })).text.match(/BEGIN X509 CRL/g)).toHaveLength(2);

    expect((await rotate(admin, { step: 'activate', caId: 'agents-2' })).status).toBe(200);
    expect((await call(fixture, { path: '/v1/ca-certificates' })).headers['x-dmr-active-ca']).toBe(await fingerprintOf('agents-2'));

    const newAdmin = await clientOf('agents-2', 'admin', 'rotation.admin2');
    const retired = await rotate(newAdmin, { step: 'retire', caId: 'agents-1' });
    expect(retired.json).toMatchObject({
      ring: {
        cas: [
          { id: 'agents-1', status: 'retired' },
          { id: 'agents-2', status: 'active' },
        ],
      },
    });
    const after = await call(fixture, { path: '/v1/ca-certificates' });
    expect(new X509Certificate(after.text).subject).toBe('CN=Rotation Agents CA 2');
    // the retired CA's admin certificate is no longer a trusted client
    expect((await call(fixture, { path: '/v1/config-version', client: admin })).json).toMatchObject({
      code: 'DMR_CONTROL_CERTIFICATE_REQUIRED',
    });

    const changes = await call(fixture, { path: '/v1/changes?subjectKind=ca-ring', client: newAdmin });
    const entries = (changes.json as { items: Array<Record<string, unknown>> }).items;
    expect(entries.map((entry) => [entry.action, entry.subjectId])).toEqual([
      ['ca-ring.publish', 'agents-2'],
      ['ca-ring.activate', 'agents-2'],
      ['ca-ring.retire', 'agents-1'],
    ]);
    expect(entries[0]?.actor).toMatchObject({ subject: 'urn:dmr:role:admin:rotation.admin', role: 'admin' });
  });

  it('refuses steps that do not fit the ring, naming the field, and operators altogether', async () => {
    const newAdmin = await clientOf('agents-2', 'admin', 'rotation.admin3');
    expect((await rotate(newAdmin, { step: 'activate', caId: 'nope' })).json).toMatchObject({
      code: 'DMR_CA_INVALID_REQUEST',
      field: 'caId',
    });
    expect((await rotate(newAdmin, { step: 'retire', caId: 'agents-2' })).json).toMatchObject({
      code: 'DMR_CA_INVALID_REQUEST',
      field: 'caId',
    });
    expect((await rotate(newAdmin, { step: 'publish', caId: 'agents-2' })).json).toMatchObject({
      code: 'DMR_CA_INVALID_REQUEST',
      field: 'caId',
    });
    expect((await rotate(newAdmin, { step: 'promote', caId: 'agents-2' })).status).toBe(400);
    expect((await rotate(newAdmin, { step: 'publish', caId: '../etc' })).status).toBe(400);
    const op = await clientOf('agents-2', 'operator', 'rotation.operator2');
    expect((await rotate(op, { step: 'publish', caId: 'agents-3' })).json).toMatchObject({ code: 'DMR_CONTROL_ROLE_FORBIDDEN' });
  });
});
