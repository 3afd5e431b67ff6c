// Issue 19, the OPA engines wired into a real dmr-server process (DMR_POLICY_ENGINE, DMR_OPA_URL,
// DMR_POLICY_WASM_FILE): with `opa-wasm` (deploy/policy/dmr.rego compiled to .tools/policy/dmr.wasm) and with `opa`
// (a real OPA process, the pinned .tools/bin/opa, loading dmr.rego and the same document as data) a denied pair is
// answered 403 DMR_POLICY_DENIED and an allowed one is delivered. Then OPA is killed -9: sends are refused 503
// DMR_POLICY_UNAVAILABLE, nothing is delivered, each refusal is counted as result="error"; OPA restarted, sends succeed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePorts } from '@dmr/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, type Proc } from '../support/control-plane.js';
import {
  type Identity,
  makeIdentity,
  postMessage,
  Receiver,
  RegistryFile,
  type RunningAgent,
  serverEnv,
  startAgent,
  v1Body,
  waitUntil,
} from '../support/dmr-system.js';
import { type OpaServer, POLICY_DIR, POLICY_WASM_FILE, startOpaServer } from '../support/opa.js';
import { type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';

const SERVER_BIN = 'packages/server/dist/main.js';
const POLICY_VERSION = 7;

let rabbit: RabbitVhostHandle;
let dir: string;
let registry: RegistryFile;
let a: Identity;
let b: Identity;
let policyUrl: string;
let opaDataFile: string;
const procs: Proc[] = [];
const receivers: Receiver[] = [];
const agents: RunningAgent[] = [];
let opa: OpaServer | undefined;

/** A → B allowed, B → A denied by a rule, default deny. */
function policyDocument() {
  return {
    format: 'dmr-policy/v1',
    version: POLICY_VERSION,
    defaultDecision: 'deny',
    rules: [
      { id: 'a-to-b', effect: 'allow', from: { agents: [a.id] }, to: { agents: [b.id] } },
      { id: 'no-b-to-a', effect: 'deny', from: { agents: [b.id] }, to: { agents: [a.id] } },
    ],
  };
}

beforeAll(async () => {
  rabbit = await useRabbitVhost();
  dir = mkdtempSync(join(tmpdir(), 'dmr-policy-engines-e2e-'));
  [a, b] = await Promise.all([makeIdentity(), makeIdentity()]);
  registry = new RegistryFile([a, b]);
  const document = policyDocument();
  const policyPath = join(dir, 'policy.json');
  writeFileSync(policyPath, JSON.stringify(document));
  policyUrl = `file://${policyPath}`;
  // what the bundle's data.json carries: data.dmr = {policy, policyVersion}
  opaDataFile = join(dir, 'data.json');
  writeFileSync(opaDataFile, JSON.stringify({ dmr: { policy: document, policyVersion: POLICY_VERSION } }));
}, 60_000);

afterAll(async () => {
  for (const agent of agents.splice(0)) await agent.agent.stop();
  for (const proc of procs.splice(0).reverse()) {
    if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
    await proc.exited;
  }
  await opa?.stop();
  for (const receiver of receivers.splice(0)) await receiver.close();
  await rabbit?.cleanup();
  registry?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A dmr-server process (plaintext, loopback) with the policy file and `engineEnv`; resolves once ready. */
async function startServerProcess(engineEnv: Record<string, string>): Promise<{ url: string; proc: Proc }> {
  const [port = 0] = await findFreePorts(1);
  const proc = launch(
    SERVER_BIN,
    serverEnv(rabbit, registry.url, { PORT: String(port), DMR_POLICY_URL: policyUrl, LOGGER_LOG_LEVELS: 'error,warn,log', ...engineEnv }),
  );
  procs.push(proc);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(async () => (await fetch(`${url}/v1/ready`).catch(() => undefined))?.status === 200, 30_000, 'server ready').catch(
    (error: unknown) => {
      throw new Error(`${String(error)}: ${proc.output.join('').slice(-3000)}`);
    },
  );
  return { url, proc };
}

/** Agents A and B on `serverUrl`, each delivering to its own receiver, and A → B accepted once both know each other. */
async function startPair(serverUrl: string) {
  const receiverA = await new Receiver().start();
  const receiverB = await new Receiver().start();
  receivers.push(receiverA, receiverB);
  const agentA = await startAgent(a, serverUrl, receiverA.url);
  const agentB = await startAgent(b, serverUrl, receiverB.url);
  agents.push(agentA, agentB);
  let last: unknown;
  await waitUntil(
    async () => {
      const answer = await postMessage(agentA.url, v1Body(b.id));
      last = answer;
      return answer.status === 202;
    },
    15_000,
    'A → B accepted',
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}; last answer ${JSON.stringify(last)}`);
  });
  return { agentA, agentB, receiverA, receiverB };
}

async function stopPair(pair: Awaited<ReturnType<typeof startPair>>): Promise<void> {
  for (const agent of [pair.agentA, pair.agentB]) {
    await agent.agent.stop();
    agents.splice(agents.indexOf(agent), 1);
  }
}

async function metricOf(serverUrl: string, series: string): Promise<number> {
  const text = await (await fetch(`${serverUrl}/metrics`)).text();
  const line = text.split('\n').find((row) => row.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

/** Sends A → B (allowed) and B → A (denied) and checks the answers and what arrived. */
async function expectPolicyEnforced(pair: Awaited<ReturnType<typeof startPair>>): Promise<void> {
  const allowed = v1Body(b.id);
  const denied = v1Body(a.id);
  expect((await postMessage(pair.agentA.url, allowed)).status).toBe(202);
  const refusal = await postMessage(pair.agentB.url, denied);
  expect(refusal.status).toBe(403);
  expect(refusal.body).toMatchObject({ code: 'DMR_POLICY_DENIED' });
  expect(String(refusal.body.reason)).toMatch(new RegExp(`^policy version ${POLICY_VERSION} denies: rule no-b-to-a`));
  await waitUntil(() => pair.receiverB.countOf(allowed.id) === 1, 10_000, 'allowed message delivered');
  expect(pair.receiverA.countOf(denied.id)).toBe(0);
}

describe('DMR_POLICY_ENGINE=opa-wasm', () => {
  it('denies the denied pair with 403 DMR_POLICY_DENIED and delivers the allowed one', async () => {
    const server = await startServerProcess({ DMR_POLICY_ENGINE: 'opa-wasm', DMR_POLICY_WASM_FILE: POLICY_WASM_FILE });
    const ready = (await (await fetch(`${server.url}/v1/ready`)).json()) as { detail: unknown };
    expect(ready.detail).toMatchObject({ policy: { engine: 'opa-wasm', version: POLICY_VERSION } });
    const pair = await startPair(server.url);
    await expectPolicyEnforced(pair);
    expect(await metricOf(server.url, 'dmr_policy_decisions_total{engine="opa-wasm",result="deny"}')).toBe(1);
    await stopPair(pair);
  });
});

describe('DMR_POLICY_ENGINE=opa against a real OPA process', () => {
  it('enforces the policy, fails closed with 503 while OPA is dead (kill -9), and recovers when it is back', async () => {
    opa = await startOpaServer({ paths: [join(POLICY_DIR, 'dmr.rego'), opaDataFile] });
    // no decision cache: every send asks OPA, so the kill is seen by every send (the cache is tested in unit tests)
    const server = await startServerProcess({ DMR_POLICY_ENGINE: 'opa', DMR_OPA_URL: opa.url, DMR_OPA_CACHE_SIZE: '0' });
    const ready = (await (await fetch(`${server.url}/v1/ready`)).json()) as { detail: unknown };
    expect(ready.detail).toMatchObject({ policy: { engine: 'opa', version: POLICY_VERSION } });
    const pair = await startPair(server.url);
    await expectPolicyEnforced(pair);

    const errorSeries = 'dmr_policy_decisions_total{engine="opa",result="error"}';
    const errorsBefore = await metricOf(server.url, errorSeries);
    const port = opa.port;
    await opa.kill();
    const refused: string[] = [];
    for (let i = 0; i < 5; i++) {
      const body = v1Body(b.id);
      const answer = await postMessage(pair.agentA.url, body);
      expect(answer.status, JSON.stringify(answer.body)).toBe(503);
      expect(answer.body).toMatchObject({ code: 'DMR_POLICY_UNAVAILABLE' });
      refused.push(body.id);
    }
    expect((await metricOf(server.url, errorSeries)) - errorsBefore).toBe(refused.length);

    opa = await startOpaServer({ paths: [join(POLICY_DIR, 'dmr.rego'), opaDataFile], port });
    await expectPolicyEnforced(pair);
    // sent after the refusals and delivered: the refused ones would have arrived by now had they been queued
    for (const id of refused) {
      expect(pair.receiverB.countOf(id)).toBe(0);
    }
    await stopPair(pair);
  });
});
