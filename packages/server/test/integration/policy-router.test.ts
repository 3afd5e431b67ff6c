// Issue 19, the server's decision point in process against the run's private RabbitMQ node (one vhost per test):
// after validation and before publish, a denied message is never published, is recorded in dmr.validation-failures
// with the reason headers, gets 403's code with the rule and version, one outcome line and the metrics; a broken
// document is refused with the last good one kept (log, metric, /v1/ready); the server fails closed until it has read
// its policy. Real server, real agents' sockets (mutual TLS), real broker, the built-in engine.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer, loadServerConfig } from '@dmr/server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Identity,
  LogCapture,
  makeIdentity,
  probe,
  RegistryFile,
  type RunningServer,
  serverEnv,
  serverTlsEnv,
  startServer,
  waitUntil,
} from '../../../../test/support/dmr-system.js';
import { peekQueue, queueDepth, type RabbitVhostHandle, useRabbitVhost } from '../../../../test/support/rabbit.js';
import { connectRawAgent, type RawAgent } from '../../../../test/support/raw-agent.js';

const JWE = 'eyJhbGciOiJSU0EifQ.a2V5.aXY.Y2lwaGVy.dGFn';
const NEVER = '0 0 1 1 *';

function wire(sender: Identity, recipient: Identity) {
  return {
    id: randomUUID(),
    timestamp: new Date().toISOString(),
    senderId: sender.id,
    recipientId: recipient.id,
    type: 'ChatMessage',
    payload: JWE,
  };
}

function metric(text: string, series: string): number | undefined {
  const line = text.split('\n').find((row) => row.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

/** tax (institution EMTA, registry group `tax`) may send to police; police (PPA) may not send to tax. */
function policy(version: number, reversed = false) {
  const [from, to] = reversed ? ['police', 'tax'] : ['tax', 'police'];
  return {
    format: 'dmr-policy/v1',
    version,
    defaultDecision: 'deny',
    groups: { police: { institutions: ['PPA'] } },
    rules: [
      { id: `allow-${from}-to-${to}`, effect: 'allow', from: { groups: [from] }, to: { groups: [to] } },
      { id: `no-${to}-to-${from}`, effect: 'deny', from: { groups: [to] }, to: { groups: [from] } },
    ],
  };
}

describe('policy decision point in the router', () => {
  let rabbit: RabbitVhostHandle;
  let tax: Identity;
  let police: Identity;
  let registry: RegistryFile;
  let dir: string;
  const sockets: RawAgent[] = [];
  const servers: RunningServer[] = [];

  beforeAll(async () => {
    rabbit = await useRabbitVhost();
    [tax, police] = await Promise.all([makeIdentity('ec'), makeIdentity('ec')]);
    registry = new RegistryFile([]);
    const now = new Date().toISOString();
    const item = (identity: Identity, extra: Record<string, unknown>) => ({
      id: identity.id,
      name: identity.id,
      authentication_certificate: identity.certificatePem,
      created_at: now,
      updated_at: now,
      ...extra,
    });
    // tax's group comes from its registry entry; police's membership of `police` from its institution (policy group)
    registry.writeRaw(
      JSON.stringify({ response: [item(tax, { institution: 'EMTA', groups: ['tax'] }), item(police, { institution: 'PPA' })] }),
    );
    dir = mkdtempSync(join(tmpdir(), 'dmr-policy-'));
  });

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.close();
    for (const { server } of servers.splice(0)) await server.stop();
  });

  afterAll(async () => {
    registry?.remove();
    rmSync(dir, { recursive: true, force: true });
    await rabbit?.cleanup();
  });

  function env(policyPath: string): Record<string, string> {
    return serverEnv(rabbit, registry.url, { CENTOPS_CONFIGURATION_CRON_TIME: NEVER, DMR_POLICY_URL: `file://${policyPath}` });
  }

  async function connect(url: string, identity: Identity): Promise<RawAgent> {
    const socket = await connectRawAgent(url, identity);
    sockets.push(socket);
    return socket;
  }

  it('publishes what the policy allows; a denied message is refused with rule and version, recorded, never published', async () => {
    const policyPath = join(dir, 'allow.json');
    writeFileSync(policyPath, JSON.stringify(policy(3)));
    const running = await startServer(env(policyPath));
    servers.push(running);
    const [fromTax, fromPolice] = await Promise.all([connect(running.url, tax), connect(running.url, police)]);

    expect(await fromTax.send(wire(tax, police))).toEqual({ status: 'ok' });
    const denied = wire(police, tax);
    expect(await fromPolice.send(denied)).toEqual({
      status: 'error',
      error: 'DMR_POLICY_DENIED',
      reason: 'policy version 3 denies: rule no-police-to-tax (DENY_RULE)',
    });
    // the denied one was never published to its recipient's queue: the refusals hold it, metadata only
    expect(await queueDepth(rabbit, `dmr.agent.${tax.id}`)).toBe(0);
    const [record] = await peekQueue(rabbit, 'dmr.validation-failures', 1);
    expect(record?.headers).toMatchObject({
      'x-dmr-reason-code': 'DMR_POLICY_DENIED',
      'x-dmr-reason': 'policy version 3 denies: rule no-police-to-tax (DENY_RULE)',
      'x-dmr-sender': police.id,
    });
    expect(JSON.parse(record?.body ?? '{}')).toMatchObject({ code: 'DMR_POLICY_DENIED', message: { id: denied.id, recipientId: tax.id } });
    expect(record?.body).not.toContain(JWE);
    const outcome = running.logs.find({ msg: 'message outcome', msgId: denied.id });
    expect(outcome).toHaveLength(1);
    expect(outcome[0]).toMatchObject({ result: 'denied', code: 'DMR_POLICY_DENIED', policyVersion: 3, ruleId: 'no-police-to-tax' });

    const text = (await probe(`${running.url}/metrics`)).text;
    expect(metric(text, 'dmr_policy_decisions_total{engine="builtin",result="allow"}')).toBe(1);
    expect(metric(text, 'dmr_policy_decisions_total{engine="builtin",result="deny"}')).toBe(1);
    expect(metric(text, 'dmr_policy_version')).toBe(3);
    expect(metric(text, 'dmr_policy_decision_duration_seconds_count{engine="builtin"}')).toBe(2);
    const ready = JSON.parse((await probe(`${running.url}/v1/ready`)).text) as { detail: { policy: unknown } };
    expect(ready.detail.policy).toEqual({ engine: 'builtin', version: 3 });
  });

  it('refuses a broken document and keeps the last good one (log, metric, /v1/ready); a good one is swapped in live', async () => {
    const policyPath = join(dir, 'swap.json');
    writeFileSync(policyPath, JSON.stringify(policy(5)));
    const running = await startServer(env(policyPath));
    servers.push(running);
    const sync = running.server.policy.sync;
    if (!sync) throw new Error('the policy source is configured');
    const fromTax = await connect(running.url, tax);

    writeFileSync(policyPath, JSON.stringify({ ...policy(6), surprise: true }));
    expect(await sync.sync()).toBe('refused');
    writeFileSync(policyPath, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    expect(await sync.sync()).toBe('refused');
    expect(await fromTax.send(wire(tax, police))).toEqual({ status: 'ok' });
    expect(running.server.readiness().isReady).toBe(true);
    const ready = JSON.parse((await probe(`${running.url}/v1/ready`)).text) as {
      status: string;
      detail: { policy: Record<string, unknown> };
    };
    expect(ready.status).toBe('ready');
    expect(ready.detail.policy).toMatchObject({ engine: 'builtin', version: 5, lastError: expect.stringMatching(/^DMR_POLICY_INVALID: /) });
    const text = (await probe(`${running.url}/metrics`)).text;
    expect(metric(text, 'dmr_policy_load_failures_total{code="DMR_POLICY_INVALID"}')).toBe(2);
    expect(metric(text, 'dmr_policy_version')).toBe(5);
    expect(running.logs.find({ code: 'DMR_POLICY_INVALID', msg: 'policy refused; the last good policy stays in force' })).toHaveLength(2);

    writeFileSync(policyPath, JSON.stringify(policy(7, true)));
    expect(await sync.sync()).toBe('applied');
    expect(await fromTax.send(wire(tax, police))).toMatchObject({
      error: 'DMR_POLICY_DENIED',
      reason: expect.stringMatching(/^policy version 7 /),
    });
    expect(running.server.policy.point.readiness()).toEqual({ engine: 'builtin', version: 7 });
  });

  it('fails closed until its policy has been read: not ready, messages refused with DMR_POLICY_UNAVAILABLE, nothing published', async () => {
    const policyPath = join(dir, 'late.json');
    const logs = new LogCapture('dmr-server');
    const server = buildServer(loadServerConfig({ ...env(policyPath), ...(await serverTlsEnv()) }), { log: logs.logger });
    const { port } = await server.start();
    servers.push({ server, url: `https://127.0.0.1:${port}`, port, logs });
    await waitUntil(() => server.registry.isLoaded && server.broker.isConnected, 15_000, 'registry and broker');
    expect(server.readiness()).toMatchObject({ isReady: false, checks: { policy: 'not-loaded' } });
    const fromTax = await connect(`https://127.0.0.1:${port}`, tax);
    const depthBefore = await queueDepth(rabbit, `dmr.agent.${police.id}`);
    const refused = await fromTax.send(wire(tax, police));
    expect(refused).toMatchObject({ status: 'error', error: 'DMR_POLICY_UNAVAILABLE' });
    expect(await queueDepth(rabbit, `dmr.agent.${police.id}`)).toBe(depthBefore);
    expect(logs.find({ code: 'DMR_POLICY_FETCH_FAILED' }).length).toBeGreaterThan(0);

    writeFileSync(policyPath, JSON.stringify(policy(1)));
    expect(await server.policy.sync?.sync()).toBe('applied');
    expect(server.readiness().isReady).toBe(true);
    expect(await fromTax.send(wire(tax, police))).toEqual({ status: 'ok' });
    const text = (await probe(`https://127.0.0.1:${port}/metrics`)).text;
    expect(metric(text, 'dmr_policy_decisions_total{engine="builtin",result="error"}')).toBe(1);
  });
});
