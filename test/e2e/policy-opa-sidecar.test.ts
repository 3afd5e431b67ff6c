// Issue 19, the `opa` engine against a REAL OPA server process (the pinned .tools/bin/opa) that polls its bundle
// from a real dmr-control over mutual TLS: decisions, a bundle update while decisions flow, and fail-closed on a
// timeout (a TCP server that never answers), a 500 (a stand-in HTTP server) and a kill -9 of OPA, then recovery.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { join } from 'node:path';
import { issueAdminCertificate } from '@dmr/control';
import { createOpaSidecarEngine, type OpaSidecarEngine } from '@dmr/server';
import { DmrError } from '@dmr/shared';
import type { PolicyDecision, PolicyInput } from '@dmr/shared/policy';
import { findFreePorts } from '@dmr/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ControlPki,
  callControl,
  launch,
  makeControlPki,
  type Proc,
  type RunningControl,
  removeControlPki,
} from '../support/control-plane.js';
import { type OpaServer, startOpaServer, writeOpaConfig } from '../support/opa.js';

const A = { id: 'alpha-bot', institution: 'EMTA', groups: ['tax'] };
const B = { id: 'beta-bot', institution: 'PPA', groups: ['police'] };

function input(sender: typeof A, recipient: typeof A, type = 'ChatMessage'): PolicyInput {
  return {
    sender: { ...sender, certificate: { subject: `CN=${sender.id}`, serial: '0A' } },
    recipient,
    message: { type },
    time: { unixMs: 1_796_630_400_000, weekday: 'mon', minuteOfDay: 540 },
  };
}

/** alpha→beta allowed and beta→alpha denied (`forward`), or the reverse; default deny. */
function policy(direction: 'forward' | 'reverse') {
  const [from, to] = direction === 'forward' ? [A.id, B.id] : [B.id, A.id];
  return {
    format: 'dmr-policy/v1',
    defaultDecision: 'deny',
    groups: { tax: { groups: ['gov'] }, gov: {} },
    rules: [
      { id: `deny-${to}-to-${from}`, effect: 'deny', from: { agents: [to] }, to: { agents: [from] } },
      { id: `allow-${from}-to-${to}`, effect: 'allow', from: { agents: [from] }, to: { agents: [to] }, types: ['ChatMessage'] },
    ],
  };
}

/** What the contract says each version decides for alpha→beta (version 1 forward, 2 reverse). */
function expected(version: number, sender: typeof A): Pick<PolicyDecision, 'allow' | 'ruleId'> {
  const isForward = version % 2 === 1;
  const [from, to] = isForward ? [A.id, B.id] : [B.id, A.id];
  return sender.id === from ? { allow: true, ruleId: `allow-${from}-to-${to}` } : { allow: false, ruleId: `deny-${to}-to-${from}` };
}

/** dmr-control without a broker (push off, servers would poll): all the bundle endpoint needs. */
async function startControl(pki: ControlPki): Promise<RunningControl> {
  const [port = 0, opsPort = 0] = await findFreePorts(2);
  const proc: Proc = launch('packages/control/dist/service/main.js', {
    DMR_CONTROL_HOST: '127.0.0.1',
    DMR_CONTROL_PORT: String(port),
    DMR_OPS_PORT: String(opsPort),
    DMR_CONTROL_DATABASE_URL: `sqlite:${join(pki.dir, 'control.db')}`,
    DMR_CONTROL_CA_DIR: pki.caDir,
    DMR_TLS_CERT_FILE: pki.serverCertFile,
    DMR_TLS_KEY_FILE: pki.serverKeyFile,
    DMR_TLS_CA_FILE: pki.caFile,
    LOGGER_LOG_LEVELS: 'error,warn',
  });
  const deadline = Date.now() + 30_000;
  while ((await fetch(`http://127.0.0.1:${opsPort}/v1/ready`).catch(() => undefined))?.status !== 200) {
    if (Date.now() > deadline || proc.child.exitCode !== null) throw new Error(`dmr-control did not start: ${proc.output.join('')}`);
    await new Promise((done) => setTimeout(done, 100));
  }
  return { proc, url: `https://127.0.0.1:${port}`, port, opsPort };
}

/** Decisions and fail-closed refusals as the router counts them (`dmr_policy_decisions_total{result}`). */
class Tally {
  readonly counts = { allow: 0, deny: 0, error: 0 };
  async decide(engine: OpaSidecarEngine, value: PolicyInput): Promise<PolicyDecision | DmrError> {
    try {
      const decision = await engine.decide(value);
      this.counts[decision.allow ? 'allow' : 'deny'] += 1;
      return decision;
    } catch (error) {
      if (!(error instanceof DmrError) || error.code !== 'DMR_POLICY_UNAVAILABLE') throw error;
      this.counts.error += 1;
      return error;
    }
  }
}

async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

let pki: ControlPki;
let control: RunningControl;
let opa: OpaServer;
let opaConfig: string;
const engines: OpaSidecarEngine[] = [];

function engineFor(url: string, options: { timeoutMs?: number; cacheSize?: number } = {}): OpaSidecarEngine {
  const engine = createOpaSidecarEngine({ url, timeoutMs: options.timeoutMs ?? 2000, cacheSize: options.cacheSize ?? 0 });
  engines.push(engine);
  return engine;
}

async function storePolicy(document: unknown): Promise<number> {
  const created = await callControl(control, pki, { method: 'POST', path: '/v1/policies', body: { document } });
  if (created.status !== 201) throw new Error(`POST /v1/policies: ${created.status} ${JSON.stringify(created.json)}`);
  return Number(created.json.version);
}

/** Waits until OPA (asked with the cache off) decides with `version`. */
function opaAt(version: number): Promise<PolicyDecision> {
  const probe = engineFor(opa.url);
  return eventually(async () => {
    const decision = await Promise.resolve(probe.decide(input(A, B))).catch(() => undefined);
    return decision?.policyVersion === version ? decision : undefined;
  }, `OPA to activate policy version ${version}`);
}

beforeAll(async () => {
  pki = await makeControlPki();
  control = await startControl(pki);
  // the sidecar's identity towards dmr-control: a read-only role allowed to read policies
  const reader = await issueAdminCertificate(pki.caDir, 'auditor', 'opa-sidecar', { outDir: join(pki.dir, 'opa') });
  opaConfig = writeOpaConfig(pki.dir, {
    url: control.url,
    caFile: pki.caFile,
    certFile: reader.certificatePath,
    keyFile: reader.keyPath as string,
  });
  opa = await startOpaServer({ configFile: opaConfig });
});

afterAll(async () => {
  await Promise.all(engines.map((engine) => engine.close()));
  await opa?.stop();
  if (control && control.proc.child.exitCode === null) {
    control.proc.child.kill('SIGTERM');
    await control.proc.exited;
  }
  if (pki) removeControlPki(pki);
});

describe('opa engine against a real OPA server fed by dmr-control bundles', () => {
  it('decides NO_POLICY before any policy is stored, then by the stored version', async () => {
    const engine = engineFor(opa.url);
    await expect(engine.decide(input(A, B))).resolves.toEqual({ allow: true, reason: 'NO_POLICY', policyVersion: 0 });

    const version = await storePolicy(policy('forward'));
    await opaAt(version);
    // the bundle's data.json gave OPA the rule index, so dmr.rego decides by lookup, not by scanning every rule
    const held = (await (await fetch(`${opa.url}/v1/data/dmr/index`)).json()) as { result?: unknown };
    expect(held.result).toEqual({
      from: { [`a:${A.id}`]: [1], [`a:${B.id}`]: [0] },
      to: { [`a:${A.id}`]: [0], [`a:${B.id}`]: [1] },
      fromOnly: {},
      toOnly: {},
      any: [],
      groups: { 'g:gov': ['tax'] },
    });
    await expect(engine.decide(input(A, B))).resolves.toEqual({
      allow: true,
      reason: 'ALLOW_RULE',
      ruleId: `allow-${A.id}-to-${B.id}`,
      policyVersion: version,
    });
    await expect(engine.decide(input(B, A))).resolves.toEqual({
      allow: false,
      reason: 'DENY_RULE',
      ruleId: `deny-${B.id}-to-${A.id}`,
      policyVersion: version,
    });
    await expect(engine.decide(input(A, B, 'Other'))).resolves.toEqual({ allow: false, reason: 'DEFAULT_DENY', policyVersion: version });
    await expect(engine.decide(input(A, A))).resolves.toEqual({ allow: false, reason: 'DEFAULT_DENY', policyVersion: version });
  });

  it('switches policyVersion while decisions flow (cache on): every decision follows its own version', async () => {
    const before = (await opaAt(1)).policyVersion;
    const engine = engineFor(opa.url, { cacheSize: 1000 });
    const seen: PolicyDecision[][] = [[], [], [], []];
    let isFlowing = true;
    const workers = seen.map(async (log, worker) => {
      const sender = worker % 2 === 0 ? A : B;
      while (isFlowing) {
        log.push(await engine.decide(input(sender, sender === A ? B : A)));
        // a cache hit resolves in a microtask: yield to the event loop so timers (and the test) can run
        await new Promise((done) => setImmediate(done));
      }
    });
    await new Promise((done) => setTimeout(done, 300));
    const next = await storePolicy(policy('reverse'));
    await engine.load({ version: next, document: policy('reverse') }); // what the server does on the `policy` announcement
    await opaAt(next);
    await new Promise((done) => setTimeout(done, 300));
    isFlowing = false;
    await Promise.all(workers);

    expect(next).toBe(before + 1);
    for (const [worker, log] of seen.entries()) {
      const sender = worker % 2 === 0 ? A : B;
      const versions = log.map((decision) => decision.policyVersion);
      expect(new Set(versions)).toEqual(new Set([before, next]));
      // once a worker saw the new version it never got the old one again (no stale cache entry after the switch)
      expect(versions.slice(versions.indexOf(next)).every((version) => version === next)).toBe(true);
      for (const decision of log) expect(decision).toMatchObject(expected(decision.policyVersion, sender));
    }
    expect(engine.cachedDecisions).toBeGreaterThan(0);
  });

  it('fails closed when OPA is killed (kill -9), counted, and recovers when it answers again', async () => {
    const engine = engineFor(opa.url, { timeoutMs: 1000 });
    const tally = new Tally();
    const version = (await opaAt(2)).policyVersion;
    for (let i = 0; i < 5; i += 1) await tally.decide(engine, input(A, B));
    expect(tally.counts).toEqual({ allow: 0, deny: 5, error: 0 });

    const { port } = opa;
    await opa.kill();
    const refused = await tally.decide(engine, input(A, B));
    for (let i = 0; i < 9; i += 1) await tally.decide(engine, input(B, A));
    expect(refused).toBeInstanceOf(DmrError);
    expect((refused as DmrError).message).toMatch(/OPA unreachable: .*ECONNREFUSED/);
    expect(tally.counts).toEqual({ allow: 0, deny: 5, error: 10 });

    opa = await startOpaServer({ configFile: opaConfig, port });
    await expect(tally.decide(engine, input(B, A))).resolves.toMatchObject({ allow: true, policyVersion: version });
    expect(tally.counts).toEqual({ allow: 1, deny: 5, error: 10 });
  });
});

describe('opa engine fails closed against servers that do not answer properly', () => {
  const sockets = new Set<Socket>();
  let silent: TcpServer;
  let standIn: HttpServer;
  let standInBody = '';
  let standInStatus = 500;

  beforeAll(async () => {
    // a TCP server that accepts connections and never answers
    silent = createTcpServer((socket) => sockets.add(socket));
    // a stand-in for OPA that answers whatever the test sets (500 by default)
    standIn = createHttpServer((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(standInStatus, { 'content-type': 'application/json' }).end(standInBody));
    });
    await Promise.all([silent, standIn].map((server) => new Promise<void>((done) => server.listen(0, '127.0.0.1', done))));
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    standIn.closeAllConnections();
    await Promise.all([silent, standIn].map((server) => new Promise((done) => server.close(done))));
  });

  const urlOf = (server: TcpServer | HttpServer) => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return `http://127.0.0.1:${address.port}`;
  };

  it('a server that never answers: DMR_POLICY_UNAVAILABLE after the timeout, counted', async () => {
    const engine = engineFor(urlOf(silent), { timeoutMs: 200 });
    const tally = new Tally();
    const outcomes = await Promise.all([1, 2, 3].map(() => tally.decide(engine, input(A, B))));
    expect(tally.counts).toEqual({ allow: 0, deny: 0, error: 3 });
    for (const outcome of outcomes) expect((outcome as DmrError).message).toBe('OPA did not answer within 200 ms');
  });

  it('a stand-in answering 500: DMR_POLICY_UNAVAILABLE, counted', async () => {
    standInStatus = 500;
    standInBody = '{"code":"internal_error"}';
    const tally = new Tally();
    const outcome = await tally.decide(engineFor(urlOf(standIn)), input(A, B));
    expect(tally.counts).toEqual({ allow: 0, deny: 0, error: 1 });
    expect((outcome as DmrError).message).toBe('OPA answered HTTP 500');
  });

  it.each([
    ['no result (undefined decision)', '{}'],
    ['not JSON', '<html>'],
    ['allow that contradicts the reason', '{"result":{"allow":true,"reason":"DENY_RULE","ruleId":"r","policyVersion":1}}'],
    ['a string policyVersion', '{"result":{"allow":true,"reason":"DEFAULT_ALLOW","policyVersion":"1"}}'],
  ])('a stand-in answering 200 with %s: DMR_POLICY_UNAVAILABLE', async (_what, body) => {
    standInStatus = 200;
    standInBody = body;
    const outcome = await new Tally().decide(engineFor(urlOf(standIn), { cacheSize: 10 }), input(A, B));
    expect(outcome).toBeInstanceOf(DmrError);
    expect((outcome as DmrError).code).toBe('DMR_POLICY_UNAVAILABLE');
  });
});
