// Issue 15, finding 5 (docs/security.md "CRL lifecycle"): the server enforces only a CRL that the agent CA
// issued and signed, keeps the last good one when the file is replaced by a forged, older or expired CRL,
// exports nextUpdate, and reports not-ready while the CRL in force has expired (OpenSSL then refuses every agent).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { publishCrl } from '@dmr/control';
import { buildServer, type DmrServer, loadServerConfig } from '@dmr/server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Identity, LogCapture, makeIdentity, RegistryFile, serverEnv, waitUntil } from '../support/dmr-system.js';
import { type LeafFiles, TestPki } from '../support/pki.js';
import { type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';
import { connectRawAgent } from '../support/raw-agent.js';

const DAY_MS = 86_400_000;

interface Started {
  readonly server: DmrServer;
  readonly url: string;
  readonly logs: LogCapture;
}

describe('CRL lifecycle on a running server', () => {
  let rabbit: RabbitVhostHandle;
  let pki: TestPki;
  let impostor: TestPki;
  let registry: RegistryFile;
  let a: Identity;
  let victim: Identity;
  const started: Started[] = [];
  let serverLeaf: Promise<LeafFiles> | undefined;

  beforeAll(async () => {
    a = await makeIdentity('ec');
    victim = await makeIdentity('ec');
    rabbit = await useRabbitVhost();
    // same CA name as the real one: only the signature tells its CRLs apart
    [pki, impostor] = await Promise.all([new TestPki().init(), new TestPki().init('DMR Test CA')]);
    registry = new RegistryFile([a, victim]);
  });

  afterEach(async () => {
    for (const { server } of started.splice(0)) await server.stop();
  });

  afterAll(async () => {
    registry?.remove();
    pki?.remove();
    impostor?.remove();
    await rabbit?.cleanup();
  });

  /** Builds and starts a server on `pki` without waiting for readiness (an expired CRL keeps it not-ready). */
  async function start(): Promise<Started> {
    serverLeaf ??= pki.server();
    const leaf = await serverLeaf;
    const env = serverEnv(rabbit, registry.url, {
      DMR_ALLOW_PLAINTEXT: 'false',
      DMR_TLS_CERT_FILE: leaf.certPath,
      DMR_TLS_KEY_FILE: leaf.keyPath,
      DMR_TLS_CA_FILE: pki.caCertPath,
      DMR_TLS_CRL_FILE: pki.crlPath,
      DMR_TLS_CRL_RELOAD_INTERVAL_MS: '200',
    });
    const logs = new LogCapture('dmr-server');
    const server = buildServer(loadServerConfig(env), { log: logs.logger });
    const { port } = await server.start();
    const entry = { server, url: `https://127.0.0.1:${port}`, logs };
    started.push(entry);
    await waitUntil(() => server.broker.isConnected && server.registry.isLoaded, 15_000, 'broker and registry');
    return entry;
  }

  function get(url: string): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      httpsGet(url, { ca: pki.caCert }, (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      }).on('error', reject);
    });
  }

  /** Replaces the watched CRL file in one step (a reader never sees half a file). */
  function dropCrl(pem: string): void {
    writeFileSync(`${pki.crlPath}.tmp`, pem);
    renameSync(`${pki.crlPath}.tmp`, pki.crlPath);
  }

  function metricValue(text: string, name: string): number | undefined {
    const line = text.split('\n').find((row) => row.startsWith(`${name} `) || row.startsWith(`${name}{`));
    return line === undefined ? undefined : Number(line.split(' ').pop());
  }

  const leaves = new Map<string, Promise<LeafFiles>>();
  async function agentConnects(identity: Identity): Promise<boolean> {
    // one certificate per agent, issued on first use: a revocation must keep biting on that same certificate
    if (!leaves.has(identity.id)) leaves.set(identity.id, pki.agent(identity.id));
    const leaf = await (leaves.get(identity.id) as Promise<LeafFiles>);
    try {
      const raw = await connectRawAgent(started[0]?.url ?? '', identity, { ca: pki.caCert, cert: leaf.cert, key: leaf.key });
      raw.close();
      return true;
    } catch {
      return false;
    }
  }

  it('reports not-ready naming the expired CRL, exports its nextUpdate, and recovers when a fresh CRL is published', async () => {
    const expired = await publishCrl(pki.caDir, { outPath: pki.crlPath, now: new Date(Date.now() - 10 * DAY_MS), nextUpdateDays: 7 });
    const { url, logs } = await start();

    const ready = await get(`${url}/v1/ready`);
    expect(ready.status).toBe(503);
    const body = JSON.parse(ready.text) as { checks: Record<string, string>; detail?: Record<string, string> };
    expect(body.checks).toMatchObject({ broker: 'connected', registry: 'loaded', lifecycle: 'running', crl: 'expired' });
    // a CRL carries whole seconds
    const nextUpdateS = Math.floor(expired.nextUpdate.getTime() / 1000);
    expect(body.detail?.crl).toContain(`expired at ${new Date(nextUpdateS * 1000).toISOString()}`);
    const metrics = (await get(`${url}/metrics`)).text;
    expect(metricValue(metrics, 'dmr_crl_next_update_timestamp_seconds')).toBe(nextUpdateS);
    expect(logs.lines.some((line) => line.health === 'expired' && line.level === 'error')).toBe(true);
    // OpenSSL refuses every agent with an expired CRL: the reason the instance must leave the load balancer
    expect(await agentConnects(a)).toBe(false);

    const fresh = await publishCrl(pki.caDir, { outPath: pki.crlPath });
    await waitUntil(async () => (await get(`${url}/v1/ready`)).status === 200, 10_000, 'ready with the fresh CRL');
    expect(metricValue((await get(`${url}/metrics`)).text, 'dmr_crl_next_update_timestamp_seconds')).toBe(
      Math.floor(fresh.nextUpdate.getTime() / 1000),
    );
    expect(await agentConnects(a)).toBe(true);
  });

  it('refuses a forged CRL and an older CRL dropped into the file, keeping the CRL in force', async () => {
    expect(await agentConnects(victim)).toBe(false); // no server yet: issues the victim's certificate
    await pki.publishCrl();
    const beforeRevocation = readFileSync(pki.crlPath, 'utf8');
    await pki.revokeAgent(victim.id);
    const { url, logs } = await start();
    expect((await get(`${url}/v1/ready`)).status).toBe(200);
    expect(await agentConnects(victim)).toBe(false);

    // a CRL naming the agent CA but signed by another key: applied, it would make OpenSSL refuse every agent
    await impostor.publishCrl();
    dropCrl(readFileSync(impostor.crlPath, 'utf8'));
    await waitUntil(() => logs.find({ code: 'DMR_CA_CRL_INVALID' }).length > 0, 10_000, 'forged CRL refused');
    expect(await agentConnects(a)).toBe(true);
    expect(await agentConnects(victim)).toBe(false);

    // a replayed older CRL of the right CA: applied, it would un-revoke the victim
    dropCrl(beforeRevocation);
    await waitUntil(() => logs.find({ code: 'DMR_CA_CRL_STALE' }).length > 0, 10_000, 'older CRL refused');
    expect(await agentConnects(victim)).toBe(false);
    expect(await agentConnects(a)).toBe(true);

    const metrics = (await get(`${url}/metrics`)).text;
    expect(metrics).toContain('dmr_crl_refusals_total{code="DMR_CA_CRL_INVALID"} 1');
    expect(metrics).toContain('dmr_crl_refusals_total{code="DMR_CA_CRL_STALE"} 1');
    expect((await get(`${url}/v1/ready`)).status).toBe(200);
  });
});
