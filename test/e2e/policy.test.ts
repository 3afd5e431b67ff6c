// Issue 19's acceptance over real processes, one RabbitMQ vhost: dmr-control (SQLite, its CA, push on dmr.control), a
// dmr-server that reads the registry (with institution and groups) and the latest policy from it, and two dmr-agents
// enrolled through it. A policy allowing A→B and denying B→A is swapped (POST /v1/policies) for the reverse while
// traffic flows both ways: every message is decided by the version in force when it was routed (403 reasons and the
// server's outcome lines name it), every 202 is delivered, none against its version. A second server reads its policy
// from a file (DMR_POLICY_URL): a broken document is refused, the last good stays, and the refusal is in its log,
// metrics and /v1/ready.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueCertificate, serverInstanceProfile } from '@dmr/control';
import { findFreePorts } from '@dmr/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ControlPki,
  callControl,
  createAndEnroll,
  type EnrolledAgent,
  launch,
  makeControlPki,
  type Proc,
  patchAgent,
  type RunningControl,
  removeControlPki,
  startControlProcess,
} from '../support/control-plane.js';
import { postMessage, probe, Receiver, serverEnv, v1Body, waitUntil } from '../support/dmr-system.js';
import { type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';

const SERVER_BIN = 'packages/server/dist/main.js';
const AGENT_BIN = 'packages/agent/dist/main.js';

let rabbit: RabbitVhostHandle;
let pki: ControlPki;
let control: RunningControl;
let dir: string;
/** A server instance certificate (serverAuth + clientAuth, `urn:dmr:server:`): the control plane's `server` role reads policies. */
let instance: { certFile: string; keyFile: string };
const procs: Proc[] = [];

/** A → B allowed and B → A denied (or the reverse): A is in registry group `alpha`, B has institution `BETA`. */
function policy(reversed: boolean) {
  const alpha = { groups: ['alpha'] };
  const beta = { institutions: ['BETA'] };
  const [from, to] = reversed ? [beta, alpha] : [alpha, beta];
  return {
    format: 'dmr-policy/v1',
    defaultDecision: 'deny',
    rules: [
      { id: reversed ? 'beta-to-alpha' : 'alpha-to-beta', effect: 'allow', from, to },
      { id: reversed ? 'no-alpha-to-beta' : 'no-beta-to-alpha', effect: 'deny', from: to, to: from },
    ],
  };
}

function serverProcess(port: number, extra: Record<string, string>): Proc {
  const proc = launch(
    SERVER_BIN,
    serverEnv(rabbit, `${control.url}/centops/configuration`, {
      PORT: String(port),
      CENTOPS_CONFIGURATION_CRON_TIME: '0 */30 * * * *',
      CENTOPS_CONFIGURATION_CA_FILE: pki.caFile,
      CENTOPS_ALLOW_EMPTY_REGISTRY: 'true',
      DMR_ALLOW_PLAINTEXT: 'false',
      DMR_TLS_CERT_FILE: instance.certFile,
      DMR_TLS_KEY_FILE: instance.keyFile,
      DMR_TLS_CA_FILE: pki.caFile,
      DMR_TLS_CRL_URL: `${control.url}/v1/crl`,
      ...extra,
    }),
  );
  procs.push(proc);
  return proc;
}

function agentProcess(agent: EnrolledAgent, port: number, serverUrl: string, endpoint: string): Proc {
  const proc = launch(AGENT_BIN, {
    PORT: String(port),
    HOST: '127.0.0.1',
    AGENT_ID: agent.id,
    AGENT_PRIVATE_KEY_FILE: agent.keyFile,
    DMR_SERVER_WEBSOCKET_URL: serverUrl,
    OUTGOING_MESSAGE_ENDPOINT: endpoint,
    WEBSOCKET_RECONNECTION_DELAY: '100',
    WEBSOCKET_RECONNECTION_DELAY_MAX: '500',
    DMR_ALLOW_PLAINTEXT: 'false',
    DMR_TLS_CA_FILE: pki.caFile,
    DMR_TLS_CERT_FILE: agent.certFile,
    DMR_TLS_KEY_FILE: agent.keyFile,
    DMR_PEER_CA_FILE: pki.caFile,
    // a shared 2-core machine runs late at times: what is asserted here is the policy's answer, not the agent's load shedding
    DMR_MAX_EVENT_LOOP_DELAY_MS: '0',
  });
  procs.push(proc);
  return proc;
}

async function readyDetail(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const answer = await probe(`${url}/v1/ready`, pki.caPem).catch(() => undefined);
  return { status: answer?.status ?? 0, body: answer ? (JSON.parse(answer.text) as Record<string, unknown>) : {} };
}

function metric(text: string, series: string): number | undefined {
  const line = text.split('\n').find((row) => row.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

beforeAll(async () => {
  rabbit = await useRabbitVhost();
  pki = await makeControlPki();
  dir = mkdtempSync(join(tmpdir(), 'dmr-policy-e2e-'));
  const issued = await issueCertificate(pki.caDir, serverInstanceProfile('policy-e2e', { ipAddresses: ['127.0.0.1'] }), 'relay', {
    outDir: join(dir, 'relay'),
  });
  instance = { certFile: issued.certificatePath, keyFile: issued.keyPath as string };
  control = await startControlProcess(pki, rabbit);
  procs.push(control.proc);
}, 90_000);

afterAll(async () => {
  for (const proc of procs.splice(0).reverse()) {
    if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
    await proc.exited;
  }
  await rabbit?.cleanup();
  if (pki) removeControlPki(pki);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Sent {
  readonly id: string;
  readonly direction: 'AB' | 'BA';
  readonly status: number;
  readonly body: Record<string, unknown>;
}

describe('policy from dmr-control, hot-swapped while traffic flows', () => {
  it('decides every message by the version in force when it was routed; every 202 is delivered', async () => {
    const a = await createAndEnroll(control, pki, randomUUID());
    const b = await createAndEnroll(control, pki, randomUUID());
    expect((await patchAgent(control, pki, a.id, { groups: ['alpha'] })).status).toBe(200);
    expect((await patchAgent(control, pki, b.id, { institution: 'BETA' })).status).toBe(200);
    const first = await callControl(control, pki, { method: 'POST', path: '/v1/policies', body: { document: policy(false) } });
    expect(first.status).toBe(201);
    const v1 = first.json.version as number;

    const [serverPort = 0, portA = 0, portB = 0] = await findFreePorts(3);
    const serverUrl = `https://127.0.0.1:${serverPort}`;
    const server = serverProcess(serverPort, {
      DMR_CONTROL_URL: control.url,
      DMR_CONTROL_CA_FILE: pki.caFile,
      DMR_INSTANCE_ID: 'policy-e2e-1',
    });
    await waitUntil(async () => (await readyDetail(serverUrl)).status === 200, 30_000, 'server ready').catch((error: unknown) => {
      throw new Error(`${String(error)}: ${server.output.join('').slice(-3000)}`);
    });
    expect((await readyDetail(serverUrl)).body.detail).toMatchObject({ policy: { engine: 'builtin', version: v1 } });

    const receiverA = await new Receiver().start();
    const receiverB = await new Receiver().start();
    try {
      agentProcess(a, portA, serverUrl, receiverA.url);
      agentProcess(b, portB, serverUrl, receiverB.url);
      const urlOf = { AB: `http://127.0.0.1:${portA}`, BA: `http://127.0.0.1:${portB}` } as const;
      const isReady = async (port: number) => (await fetch(`http://127.0.0.1:${port}/v1/ready`).catch(() => undefined))?.status === 200;
      await waitUntil(async () => (await isReady(portA)) && (await isReady(portB)), 30_000, 'both agents ready');
      // each agent must know the other before the first counted send
      let probeAnswer: unknown;
      await waitUntil(
        async () => {
          const answer = await postMessage(urlOf.AB, v1Body(b.id));
          probeAnswer = answer;
          return answer.status === 202;
        },
        10_000,
        'A knows B',
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}; last answer ${JSON.stringify(probeAnswer)}`);
      });

      const sent: Sent[] = [];
      let isSwapped = false;
      let sentAfterSwap = 0;
      const sender = async (direction: 'AB' | 'BA') => {
        const recipient = direction === 'AB' ? b.id : a.id;
        while (!isSwapped || sentAfterSwap < 60) {
          const body = v1Body(recipient);
          const answer = await postMessage(urlOf[direction], body);
          sent.push({ id: body.id, direction, ...answer });
          if (isSwapped) sentAfterSwap++;
        }
      };
      const traffic = Promise.all([sender('AB'), sender('AB'), sender('BA'), sender('BA')]);
      await waitUntil(() => sent.length >= 60, 20_000, 'traffic under the first version');
      const second = await callControl(control, pki, { method: 'POST', path: '/v1/policies', body: { document: policy(true) } });
      expect(second.status).toBe(201);
      const v2 = second.json.version as number;
      const swappedAt = Date.now();
      await waitUntil(
        () => server.lines().some((line) => line.msg === 'policy version in force' && line.policyVersion === v2),
        5_000,
        'version 2 in force',
      );
      process.stdout.write(`policy push: version ${v2} in force ${Date.now() - swappedAt} ms after POST /v1/policies\n`);
      isSwapped = true;
      await traffic;

      // every answer is 202 or the policy's 403, with the catalog body
      const routed = new Map<string, number>();
      for (const line of server.lines()) {
        if (line.msg === 'message outcome' && line.stage === 'inbound' && typeof line.msgId === 'string')
          routed.set(line.msgId, Number(line.policyVersion));
      }
      const perVersion: Record<string, number> = {};
      for (const message of sent) {
        expect([202, 403], JSON.stringify(message)).toContain(message.status);
        const version = routed.get(message.id);
        expect(version, `outcome line of ${message.id}`).toBeDefined();
        perVersion[`v${version}`] = (perVersion[`v${version}`] ?? 0) + 1;
        const allowedBy = message.direction === 'AB' ? v1 : v2;
        if (message.status === 202) {
          expect(version, `${message.direction} accepted`).toBe(allowedBy);
        } else {
          expect(message.body).toMatchObject({ statusCode: 403, code: 'DMR_POLICY_DENIED', serverCode: 'DMR_POLICY_DENIED' });
          const deniedBy = message.direction === 'AB' ? v2 : v1;
          expect(version).toBe(deniedBy);
          expect(String(message.body.reason)).toMatch(new RegExp(`^policy version ${deniedBy} denies: rule no-`));
        }
      }
      expect(perVersion[`v${v1}`]).toBeGreaterThan(0);
      expect(perVersion[`v${v2}`]).toBeGreaterThan(0);
      // none lost: every 202 arrives at its recipient; nothing denied arrives
      const accepted = sent.filter((message) => message.status === 202);
      const denied = sent.filter((message) => message.status === 403);
      await waitUntil(
        () => accepted.every((message) => (message.direction === 'AB' ? receiverB : receiverA).countOf(message.id) === 1),
        20_000,
        'every accepted message delivered',
      );
      for (const message of denied) expect((message.direction === 'AB' ? receiverB : receiverA).countOf(message.id)).toBe(0);
      process.stdout.write(
        `policy hot swap: ${sent.length} messages, ${accepted.length} accepted, ${denied.length} denied; per version ${JSON.stringify(perVersion)}\n`,
      );
      const text = (await probe(`${serverUrl}/metrics`, pki.caPem)).text;
      expect(metric(text, 'dmr_policy_version')).toBe(v2);
      expect(metric(text, 'dmr_policy_decisions_total{engine="builtin",result="deny"}')).toBe(denied.length);
    } finally {
      await receiverA.close();
      await receiverB.close();
    }
  });
});

describe('a broken policy (DMR_POLICY_URL)', () => {
  it('is refused, the last good one stays in force, and the refusal is in the log, the metrics and /v1/ready', async () => {
    const policyPath = join(dir, 'policy.json');
    writeFileSync(policyPath, JSON.stringify({ ...policy(false), version: 41 }));
    const [port = 0] = await findFreePorts(1);
    const url = `https://127.0.0.1:${port}`;
    // its own policy file, read every second; no control plane URL, so the file is the only source
    const server = serverProcess(port, { DMR_POLICY_URL: `file://${policyPath}`, CENTOPS_CONFIGURATION_CRON_TIME: '* * * * * *' });
    await waitUntil(async () => (await readyDetail(url)).status === 200, 30_000, 'file-policy server ready');
    expect((await readyDetail(url)).body.detail).toMatchObject({ policy: { engine: 'builtin', version: 41 } });

    writeFileSync(policyPath, JSON.stringify({ ...policy(false), version: 42, rules: [{ id: 'x', effect: 'maybe' }] }));
    await waitUntil(() => server.lines().some((line) => line.code === 'DMR_POLICY_INVALID'), 5_000, 'refusal logged');
    const ready = await readyDetail(url);
    expect(ready.status).toBe(200);
    expect(ready.body.detail).toMatchObject({
      policy: { engine: 'builtin', version: 41, lastError: expect.stringMatching(/DMR_POLICY_INVALID/) },
    });
    const text = (await probe(`${url}/metrics`, pki.caPem)).text;
    expect(metric(text, 'dmr_policy_version')).toBe(41);
    expect(metric(text, 'dmr_policy_load_failures_total{code="DMR_POLICY_INVALID"}')).toBeGreaterThanOrEqual(1);
    const refusal = server.lines().find((line) => line.code === 'DMR_POLICY_INVALID');
    expect(refusal).toMatchObject({ msg: 'policy refused; the last good policy stays in force', policyVersion: 41 });
    expect(String(refusal?.reason)).toMatch(/rules\.0/);
  });
});
