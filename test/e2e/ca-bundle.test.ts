// Issue 17: certificates an operator concatenates. During a CA change-over the trust anchor is `cat old-ca.pem
// new-ca.pem`; server and agents must trust certificates of either CA over real TLS, a bundle glued without a newline
// must work too, and a certificate from a CA outside the bundle is refused as UNTRUSTED, distinct from MISSING.
import { readFileSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Identity,
  makeIdentity,
  postMessage,
  Receiver,
  RegistryFile,
  type RunningServer,
  serverEnv,
  startAgent,
  startServer,
  v1Body,
  waitUntil,
} from '../support/dmr-system.js';
import { type LeafFiles, TestPki } from '../support/pki.js';
import { type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';
import { connectRawAgent } from '../support/raw-agent.js';

describe('CA bundles built with cat, and the untrusted-issuer code', () => {
  let rabbit: RabbitVhostHandle;
  let oldPki: TestPki;
  let newPki: TestPki;
  let foreignPki: TestPki;
  let registry: RegistryFile;
  let receiver: Receiver;
  let server: RunningServer;
  let url: string;
  let bundlePath: string;
  let gluedPath: string;
  let bundle: string;
  let a: Identity;
  let b: Identity;
  let c: Identity;
  const stops: Array<() => Promise<void>> = [];

  function agentTls(caFile: string, leaf: LeafFiles): Record<string, string> {
    return { DMR_ALLOW_PLAINTEXT: 'false', DMR_TLS_CA_FILE: caFile, DMR_TLS_CERT_FILE: leaf.certPath, DMR_TLS_KEY_FILE: leaf.keyPath };
  }

  beforeAll(async () => {
    [a, b, c] = [await makeIdentity('ec'), await makeIdentity('ec'), await makeIdentity('ec')];
    rabbit = await useRabbitVhost();
    oldPki = await new TestPki().init('DMR Old CA');
    newPki = await new TestPki().init('DMR New CA');
    foreignPki = await new TestPki().init('Some Foreign CA');
    // exactly what an operator types: cat old-ca.pem new-ca.pem > bundle.pem (the files as dmrctl wrote them)
    bundle = readFileSync(oldPki.caCertPath, 'utf8') + readFileSync(newPki.caCertPath, 'utf8');
    bundlePath = join(newPki.dir, 'bundle.pem');
    writeFileSync(bundlePath, bundle);
    // and the same bundle from files that lacked their final newline: the seam is glued to the next BEGIN line
    gluedPath = join(newPki.dir, 'glued.pem');
    writeFileSync(gluedPath, oldPki.caCert.trim() + newPki.caCert.trim());
    registry = new RegistryFile([a, b, c]);
    receiver = await new Receiver().start();
    // the server has moved to the new CA and trusts both through the glued bundle; agents still hold certificates of both
    const serverCert = await newPki.server();
    server = await startServer(
      serverEnv(rabbit, registry.url, {
        DMR_ALLOW_PLAINTEXT: 'false',
        DMR_TLS_CERT_FILE: serverCert.certPath,
        DMR_TLS_KEY_FILE: serverCert.keyPath,
        DMR_TLS_CA_FILE: gluedPath,
      }),
    );
    url = server.url.replace('http:', 'https:');
  });

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
    await server?.server.stop();
    await receiver?.close();
    registry?.remove();
    for (const pki of [oldPki, newPki, foreignPki]) pki?.remove();
    await rabbit?.cleanup();
  });

  it('ends the CA files dmrctl writes with a newline, so the bundle holds both CAs on separate lines', () => {
    expect(readFileSync(oldPki.caCertPath, 'utf8')).toMatch(/-----END CERTIFICATE-----\n$/);
    expect(bundle).not.toContain('----------');
    expect(bundle.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2);
  });

  it('relays both ways between an agent of the old CA and one of the new CA through a server trusting the bundle', async () => {
    // the server and B read the glued bundle (the new CA sits after the seam), A the plain one
    const agentA = await startAgent(a, url, receiver.url, agentTls(bundlePath, await oldPki.agent(a.id)));
    stops.push(() => agentA.agent.stop());
    const agentB = await startAgent(b, url, receiver.url, agentTls(gluedPath, await newPki.agent(b.id)));
    stops.push(() => agentB.agent.stop());
    const toB = v1Body(b.id);
    const toA = v1Body(a.id);
    expect((await postMessage(agentA.url, toB)).status).toBe(202);
    expect((await postMessage(agentB.url, toA)).status).toBe(202);
    await waitUntil(() => receiver.countOf(toB.id) === 1 && receiver.countOf(toA.id) === 1, 10_000, 'deliveries over mTLS');
    expect(receiver.received.find((message) => message.id === toB.id)).toEqual({ ...toB, senderId: a.id });
    expect(receiver.received.find((message) => message.id === toA.id)).toEqual({ ...toA, senderId: b.id });
  });

  it('refuses a client without a certificate as MISSING and one from a foreign CA as UNTRUSTED', async () => {
    const refusal = (tls: { cert?: string; key?: string }) =>
      connectRawAgent(url, c, { ca: bundle, ...tls }).then(
        (raw) => {
          raw.close();
          return 'connected';
        },
        (error: { data?: { code?: string } }) => error.data?.code,
      );
    expect(await refusal({})).toBe('DMR_AUTH_CERTIFICATE_MISSING');
    const foreign = await foreignPki.agent(c.id);
    expect(await refusal({ cert: foreign.cert, key: foreign.key })).toBe('DMR_AUTH_CERTIFICATE_UNTRUSTED');
    const own = await oldPki.agent(c.id);
    expect(await refusal({ cert: own.cert, key: own.key })).toBe('connected');

    const refused = server.logs.find({ code: 'DMR_AUTH_CERTIFICATE_UNTRUSTED', msg: 'agent handshake refused' });
    expect(refused).toHaveLength(1);
    expect(String(refused[0]?.reason)).toMatch(/UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    const metrics = await scrape(`${url}/metrics`, bundle);
    expect(metrics).toMatch(/dmr_socket_errors_total\{code="DMR_AUTH_CERTIFICATE_UNTRUSTED"\} 1\n/);
    expect(metrics).toMatch(/dmr_socket_errors_total\{code="DMR_AUTH_CERTIFICATE_MISSING"\} 1\n/);
  });

  it('makes an agent whose CA file lacks the server’s CA log UNTRUSTED', async () => {
    const agentC = await startAgent(c, url, receiver.url, agentTls(oldPki.caCertPath, await oldPki.agent(c.id)), { waitReady: false });
    stops.push(() => agentC.agent.stop());
    const failed = () => agentC.logs.find({ msg: 'connection to the DMR server failed' });
    await waitUntil(() => failed().length > 0, 10_000, 'agent C fails to connect');
    expect(failed()[0]).toMatchObject({ code: 'DMR_AUTH_CERTIFICATE_UNTRUSTED' });
  });
});

/** GET over https trusting `ca`, without a client certificate (as Prometheus scrapes). */
function scrape(target: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    httpsGet(target, { ca }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      response.on('end', () => resolve(text));
    }).on('error', reject);
  });
}
