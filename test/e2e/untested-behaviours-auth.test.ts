// Issue 21, "behaviours with no test" (who may stay connected), on a real dmr-server with mutual TLS and a real
// RabbitMQ vhost: handshake token subject checks, a live connection whose certificate expires, and a re-keyed agent.
import { generateKeyPairSync, randomUUID, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAgentToken, DEFAULT_CLUSTER_ID, importPrivateKey } from '@dmr/shared';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Identity,
  makeIdentity,
  RegistryFile,
  type RunningServer,
  serverEnv,
  startServer,
  testPki,
  waitUntil,
} from '../support/dmr-system.js';
import type { TestPki } from '../support/pki.js';
import { type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';
import { connectRawAgent, connectRawAgentWithToken, type RawAgent, type RawTls } from '../support/raw-agent.js';

/** `promise`, or a rejection naming `label` after `ms` (so a missing event fails the test with a reason, not a timeout). */
function within<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error(`not within ${ms} ms: ${label}`)), ms).unref()),
  ]);
}

/** The DMR code of a refused handshake (`connect_error` carries the middleware error's `data`), or 'connected'. */
async function refusalCode(connecting: Promise<RawAgent>): Promise<string> {
  try {
    (await connecting).close();
    return 'connected';
  } catch (error) {
    return String((error as { data?: { code?: string } }).data?.code ?? (error as Error).message);
  }
}

/** A well-formed handshake token whose header `kid` and claim `sub` are chosen separately, signed with `signingPem`. */
async function token(kid: string, sub: string, signingPem: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
    .setSubject(sub)
    .setAudience(DEFAULT_CLUSTER_ID)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + 30)
    .sign(importPrivateKey(signingPem).key);
}

/** The same agent id with a new EC key and a certificate for it from the test PKI (what a re-key in the registry lists). */
async function rekeyed(pki: TestPki, previous: Identity): Promise<{ identity: Identity; tls: RawTls }> {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const { cert } = await pki.agentForKey(previous.id, publicPem);
  writeFileSync(join(pki.dir, `${previous.id}.rekeyed.key.pem`), privatePem, { mode: 0o600 });
  return { identity: { id: previous.id, privatePem, publicPem, certificatePem: cert }, tls: { ca: pki.caCert, cert, key: privatePem } };
}

describe('who may connect and stay connected, on a real mTLS server', () => {
  let rabbit: RabbitVhostHandle;
  let registry: RegistryFile;
  let server: RunningServer;
  let pki: TestPki;
  let a: Identity;
  let b: Identity;
  let c: Identity;
  let d: Identity;
  let e: Identity;
  const open: RawAgent[] = [];

  beforeAll(async () => {
    a = await makeIdentity('ec');
    b = await makeIdentity('ec');
    c = await makeIdentity('ec');
    d = await makeIdentity('ec');
    e = await makeIdentity('ec');
    pki = await testPki();
    rabbit = await useRabbitVhost();
    registry = new RegistryFile([a, b, c, d, e]);
    // the CRL is re-read and every live certificate re-judged every 500 ms (serverTlsEnv)
    server = await startServer(serverEnv(rabbit, registry.url));
  });

  afterEach(() => {
    for (const raw of open.splice(0)) raw.close();
  });

  afterAll(async () => {
    await server?.server.stop();
    registry?.remove();
    await rabbit?.cleanup();
  });

  it('refuses a token whose sub is not its kid, one whose kid is no registered agent, and one signed by another agent’s key', async () => {
    const refusals = () => server.logs.find({ msg: 'agent handshake refused' }).map((line) => line.code);
    const before = refusals().length;
    // a's own certificate in every case: only the token differs
    expect(await refusalCode(connectRawAgentWithToken(server.url, a, await token(a.id, b.id, a.privatePem)))).toBe(
      'DMR_AUTH_TOKEN_INVALID',
    );
    expect(await refusalCode(connectRawAgentWithToken(server.url, a, await token(`agent-${randomUUID()}`, a.id, a.privatePem)))).toBe(
      'DMR_AUTH_UNKNOWN_AGENT',
    );
    expect(await refusalCode(connectRawAgentWithToken(server.url, a, await token(a.id, a.id, b.privatePem)))).toBe(
      'DMR_AUTH_TOKEN_INVALID',
    );
    // b's token (valid in itself) over a's certificate: the certificate binds the session to a
    expect(await refusalCode(connectRawAgentWithToken(server.url, a, await token(b.id, b.id, b.privatePem)))).toBe(
      'DMR_AUTH_CERTIFICATE_MISMATCH',
    );
    expect(refusals().slice(before)).toEqual([
      'DMR_AUTH_TOKEN_INVALID',
      'DMR_AUTH_UNKNOWN_AGENT',
      'DMR_AUTH_TOKEN_INVALID',
      'DMR_AUTH_CERTIFICATE_MISMATCH',
    ]);
    expect(server.server.gateway.connectedAgentIds()).not.toContain(a.id);
    // the control: the same hand-made token shape with kid = sub = a, signed by a's key, gets in
    const ok = await connectRawAgentWithToken(server.url, a, await token(a.id, a.id, a.privatePem));
    open.push(ok);
    expect(ok.socket.connected).toBe(true);
  });

  it('cuts a live connection when its client certificate expires (DMR_AUTH_CERTIFICATE_EXPIRED) and refuses it on reconnect', async () => {
    const shortLived = await pki.agent(c.id, { notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 4000) });
    // as the certificate states it (whole seconds)
    const notAfter = new Date(new X509Certificate(shortLived.cert).validTo);
    const tls = { ca: pki.caCert, cert: shortLived.cert, key: shortLived.key };
    const raw = await connectRawAgent(server.url, c, tls);
    open.push(raw);
    const disconnected = new Promise<number>((resolve) => raw.socket.once('disconnect', () => resolve(Date.now())));
    await waitUntil(() => server.server.gateway.connectedAgentIds().includes(c.id), 5000, 'c connected');

    const cutAt = await within(disconnected, 15_000, 'the server cuts the expired connection');
    expect(cutAt).toBeGreaterThanOrEqual(notAfter.getTime());
    expect(cutAt - notAfter.getTime()).toBeLessThan(5000);
    expect(server.logs.find({ msg: 'dropping live agent connection', agentId: c.id, code: 'DMR_AUTH_CERTIFICATE_EXPIRED' }).length).toBe(1);
    await waitUntil(() => !server.server.gateway.connectedAgentIds().includes(c.id), 5000, 'c gone from the gateway');

    const refusedBefore = server.logs.lines.filter((line) => line.code === 'DMR_AUTH_CERTIFICATE_EXPIRED').length;
    expect(await refusalCode(connectRawAgent(server.url, c, tls))).not.toBe('connected');
    expect(server.logs.lines.filter((line) => line.code === 'DMR_AUTH_CERTIFICATE_EXPIRED').length).toBeGreaterThan(refusedBefore);
    expect(server.server.gateway.connectedAgentIds()).not.toContain(c.id);
    // the agent itself is fine: a current certificate gets it back in
    const renewed = await pki.agent(c.id);
    const again = await connectRawAgent(server.url, c, { ca: pki.caCert, cert: renewed.cert, key: renewed.key });
    open.push(again);
    expect(again.socket.connected).toBe(true);
  });

  it('ends the live session of an agent the registry re-keys; only the new key gets it back in', async () => {
    const raw = await connectRawAgent(server.url, d);
    open.push(raw);
    const bystander = await connectRawAgent(server.url, e);
    open.push(bystander);
    await waitUntil(() => server.server.gateway.connectedAgentIds().includes(d.id), 5000, 'd connected');
    const disconnected = new Promise<string>((resolve) => raw.socket.once('disconnect', (reason) => resolve(reason)));

    const next = await rekeyed(pki, d);
    registry.write([a, b, c, next.identity, e]);
    expect(await within(disconnected, 10_000, 'the server ends the re-keyed session')).toBe('io server disconnect');
    expect(server.logs.find({ msg: 'disconnecting agent', agentId: d.id, reason: 'registry-change' }).length).toBe(1);
    // only the re-keyed agent is cut off
    expect(bystander.socket.connected).toBe(true);
    expect(server.server.gateway.connectedAgentIds()).toContain(e.id);

    // the old key no longer opens a session, even with its still-valid certificate
    expect(await refusalCode(connectRawAgent(server.url, d))).toBe('DMR_AUTH_TOKEN_INVALID');
    // the new certificate with a token from the old key neither
    const oldKeyToken = await createAgentToken(d.id, importPrivateKey(d.privatePem));
    expect(await refusalCode(connectRawAgentWithToken(server.url, d, oldKeyToken, next.tls))).toBe('DMR_AUTH_TOKEN_INVALID');
    const back = await connectRawAgent(server.url, next.identity, next.tls);
    open.push(back);
    expect(back.socket.connected).toBe(true);
    expect(server.server.gateway.connectedAgentIds()).toContain(d.id);
  });
});
