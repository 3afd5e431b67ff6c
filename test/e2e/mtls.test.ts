// Issue #4 acceptance (agent ↔ server): mutual TLS with certificates from the project's own CA, the
// certificate's agent identity bound to the JWT kid, and revocation that cuts a live agent off within 5 s.
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
import { TestPki } from '../support/pki.js';
import { type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';
import { connectRawAgent } from '../support/raw-agent.js';

describe('mutual TLS between agents and server', () => {
  let rabbit: RabbitVhostHandle;
  let pki: TestPki;
  let otherPki: TestPki;
  let registry: RegistryFile;
  let receiver: Receiver;
  let server: RunningServer;
  let url: string;
  let a: Identity;
  let b: Identity;
  let c: Identity;
  const stops: Array<() => Promise<void>> = [];

  function agentTls(files: { certPath: string; keyPath: string }): Record<string, string> {
    return {
      DMR_ALLOW_PLAINTEXT: 'false',
      DMR_TLS_CA_FILE: pki.caCertPath,
      DMR_TLS_CERT_FILE: files.certPath,
      DMR_TLS_KEY_FILE: files.keyPath,
    };
  }

  beforeAll(async () => {
    a = await makeIdentity('ec');
    b = await makeIdentity('rsa');
    c = await makeIdentity('ec');
    rabbit = await useRabbitVhost();
    pki = await new TestPki().init();
    otherPki = await new TestPki().init('Some Other CA');
    registry = new RegistryFile([a, b, c]);
    receiver = await new Receiver().start();
    const serverCert = await pki.server();
    server = await startServer(
      serverEnv(rabbit, registry.url, {
        DMR_ALLOW_PLAINTEXT: 'false',
        DMR_TLS_CERT_FILE: serverCert.certPath,
        DMR_TLS_KEY_FILE: serverCert.keyPath,
        DMR_TLS_CA_FILE: pki.caCertPath,
        DMR_TLS_CRL_FILE: pki.crlPath,
        DMR_TLS_CRL_RELOAD_INTERVAL_MS: '500',
      }),
    );
    url = server.url.replace('http:', 'https:');
  });

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
    await server?.server.stop();
    await receiver?.close();
    registry?.remove();
    pki?.remove();
    otherPki?.remove();
    await rabbit?.cleanup();
  });

  it('relays A→B over wss when both agents present valid certificates', async () => {
    const agentA = await startAgent(a, url, receiver.url, agentTls(await pki.agent(a.id)));
    const agentB = await startAgent(b, url, receiver.url, agentTls(await pki.agent(b.id)));
    stops.push(
      () => agentA.agent.stop(),
      () => agentB.agent.stop(),
    );
    const body = v1Body(b.id);
    expect((await postMessage(agentA.url, body)).status).toBe(202);
    await waitUntil(() => receiver.countOf(body.id) === 1, 10_000, 'delivery over mTLS');
    expect(receiver.received.find((message) => message.id === body.id)).toEqual({ ...body, senderId: a.id });
  });

  it('refuses a client without a certificate, with a certificate from another CA, or with an expired one', async () => {
    await expect(connectRawAgent(url, c, { ca: pki.caCert })).rejects.toThrow();
    const foreign = await otherPki.agent(c.id);
    await expect(connectRawAgent(url, c, { ca: pki.caCert, cert: foreign.cert, key: foreign.key })).rejects.toThrow();
    const day = 86_400_000;
    const expired = await pki.agent(c.id, { notBefore: new Date(Date.now() - 30 * day), notAfter: new Date(Date.now() - day) });
    await expect(connectRawAgent(url, c, { ca: pki.caCert, cert: expired.cert, key: expired.key })).rejects.toThrow();
    const valid = await pki.agent(c.id);
    const raw = await connectRawAgent(url, c, { ca: pki.caCert, cert: valid.cert, key: valid.key });
    expect(raw.socket.connected).toBe(true);
    raw.close();
  });

  it('refuses a certificate for agent X presented with a token for agent Y', async () => {
    const certForA = await pki.agent(a.id);
    const attempt = connectRawAgent(url, c, { ca: pki.caCert, cert: certForA.cert, key: certForA.key });
    await expect(attempt).rejects.toThrow(/certificate is for agent/);
    expect(server.logs.find({ code: 'DMR_AUTH_CERTIFICATE_MISMATCH' }).length).toBeGreaterThan(0);
  });

  it('disconnects a revoked agent within 5 s without a restart, and refuses its reconnects', async () => {
    const victim: Identity = c;
    const files = await pki.agent(victim.id);
    const raw = await connectRawAgent(url, victim, { ca: pki.caCert, cert: files.cert, key: files.key });
    const disconnected = new Promise<number>((resolve) => raw.socket.once('disconnect', () => resolve(Date.now())));
    const revokedAt = Date.now();
    await pki.revokeAgent(victim.id);
    const elapsedMs = (await disconnected) - revokedAt;
    process.stdout.write(`revocation: live connection dropped ${elapsedMs} ms after the CRL was published\n`);
    expect(elapsedMs).toBeLessThan(5000);
    await expect(connectRawAgent(url, victim, { ca: pki.caCert, cert: files.cert, key: files.key })).rejects.toThrow();
  });
});
