// Issue 18's trust-anchor change-over, end to end over real processes with live traffic: dmr-control (a CA ring,
// SQLite, push on a private RabbitMQ), two dmr-servers and two agents whose certificates came from dmr-control, and a
// third agent holding a certificate of the old CA that is never renewed. An operator runs the three steps with dmrctl:
// publish a new CA (everything trusts both, picked up live), activate it (servers and agents renew onto it while
// traffic flows), retire the old one (the old-CA agent is cut and refused as UNTRUSTED; the renewed ones carry on).
// Traffic flows both ways through all three steps: every 202 arrives exactly once, and nothing else drops.
import { randomUUID, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findFreePorts } from '@dmr/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminFrom,
  dmrctlCaRing,
  enrollServer,
  makeRingPki,
  NEW_CA_ID,
  OLD_CA_ID,
  type RingPki,
  ringCaCertificate,
  Traffic,
} from '../support/changeover.js';
import {
  createAndEnroll,
  type EnrolledAgent,
  launch,
  type Proc,
  type RunningControl,
  removeControlPki,
  startControlProcess,
} from '../support/control-plane.js';
import { postMessage, Receiver, serverEnv, v1Body, waitUntil } from '../support/dmr-system.js';
import { type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';

const SERVER_BIN = 'packages/server/dist/main.js';
const AGENT_BIN = 'packages/agent/dist/main.js';

interface RunningProc {
  readonly proc: Proc;
  readonly url: string;
  readonly opsUrl: string;
  /** Its certificate file (renewed in place). */
  readonly certFile: string;
}

let rabbit: RabbitVhostHandle;
let pki: RingPki;
let control: RunningControl;
const procs: Proc[] = [];
const receivers: Receiver[] = [];

beforeAll(async () => {
  rabbit = await useRabbitVhost();
  pki = await makeRingPki();
  // no DMR_TLS_CA_FILE: the admin API's client CAs follow the ring (old + new during the overlap, the new one after)
  control = await startControlProcess(pki, rabbit, { DMR_TLS_CA_FILE: undefined });
  procs.push(control.proc);
}, 60_000);

afterAll(async () => {
  for (const proc of procs.splice(0).reverse()) {
    if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
    await proc.exited;
  }
  for (const receiver of receivers) await receiver.close();
  await rabbit?.cleanup();
  if (pki) removeControlPki(pki);
});

async function startServerProc(name: string): Promise<RunningProc> {
  const files = await enrollServer(control, pki, name);
  const [port = 0, opsPort = 0] = await findFreePorts(2);
  const proc = launch(
    SERVER_BIN,
    serverEnv(rabbit, `${control.url}/centops/configuration`, {
      PORT: String(port),
      DMR_OPS_PORT: String(opsPort),
      DMR_INSTANCE_ID: name,
      CENTOPS_CONFIGURATION_CRON_TIME: '*/5 * * * * *',
      CENTOPS_CONFIGURATION_CA_FILE: pki.caFile,
      CENTOPS_ALLOW_EMPTY_REGISTRY: 'true',
      DMR_ALLOW_PLAINTEXT: 'false',
      DMR_TLS_CERT_FILE: files.certFile,
      DMR_TLS_KEY_FILE: files.keyFile,
      DMR_TLS_CA_FILE: files.caFile,
      DMR_TLS_CRL_URL: `${control.url}/v1/crl`,
      DMR_CONTROL_URL: control.url,
      DMR_CONTROL_CA_FILE: pki.caFile,
      DMR_CERT_RELOAD_INTERVAL_MS: '500',
      // the announcements carry the change-over; the poll is only the safety net
      DMR_CA_BUNDLE_REFRESH_INTERVAL_MS: '60000',
      LOGGER_LOG_LEVELS: 'error,warn,log,info',
    }),
  );
  procs.push(proc);
  const opsUrl = `http://127.0.0.1:${opsPort}`;
  await waitUntil(() => isReady(opsUrl), 30_000, `${name} ready`);
  return { proc, url: `https://127.0.0.1:${port}`, opsUrl, certFile: files.certFile };
}

/**
 * Starts an agent process from its enrolled files. `followControl`: it renews and follows dmr-control's CA bundle
 * (DMR_CONTROL_URL); otherwise its certificate and CA bundle are files nobody changes.
 */
async function startAgentProc(agent: EnrolledAgent, serverUrl: string, caBundle: string, followControl: boolean): Promise<RunningProc> {
  const [port = 0] = await findFreePorts(1);
  const caFile = join(pki.dir, `${agent.id}.ca.pem`);
  writeFileSync(caFile, caBundle);
  const receiver = await new Receiver().start();
  receivers.push(receiver);
  const proc = launch(AGENT_BIN, {
    PORT: String(port),
    HOST: '127.0.0.1',
    AGENT_ID: agent.id,
    AGENT_PRIVATE_KEY_FILE: agent.keyFile,
    DMR_SERVER_WEBSOCKET_URL: serverUrl,
    OUTGOING_MESSAGE_ENDPOINT: receiver.url,
    WEBSOCKET_RECONNECTION_DELAY: '100',
    WEBSOCKET_RECONNECTION_DELAY_MAX: '500',
    DMR_ALLOW_PLAINTEXT: 'false',
    DMR_TLS_CA_FILE: caFile,
    DMR_TLS_CERT_FILE: agent.certFile,
    DMR_TLS_KEY_FILE: agent.keyFile,
    DMR_PEER_CA_FILE: caFile,
    DMR_CERT_RELOAD_INTERVAL_MS: '500',
    // two cores shared by every process of the test (and other suites): event-loop stalls there are the machine's, not
    // the change-over's; admission on loop delay is tested in packages/agent/test/integration/backpressure.test.ts
    DMR_MAX_EVENT_LOOP_DELAY_MS: '0',
    ...(followControl ? { DMR_CONTROL_URL: control.url, DMR_CONTROL_CA_FILE: pki.caFile, DMR_CA_BUNDLE_REFRESH_INTERVAL_MS: '1000' } : {}),
    LOGGER_LOG_LEVELS: 'error,warn,log,info',
  });
  procs.push(proc);
  receiverOf.set(agent.id, receiver);
  return { proc, url: `http://127.0.0.1:${port}`, opsUrl: `http://127.0.0.1:${port}`, certFile: agent.certFile };
}

const receiverOf = new Map<string, Receiver>();

async function isReady(base: string): Promise<boolean> {
  return (await fetch(`${base}/v1/ready`).catch(() => undefined))?.status === 200;
}

function logged(proc: Proc, fields: Record<string, unknown>, since = 0): Array<Record<string, unknown>> {
  return proc
    .lines()
    .filter((line) => Date.parse(String(line.time ?? '')) >= since && Object.entries(fields).every(([key, value]) => line[key] === value));
}

/** Sends `count` messages from → to one after the other; all must be accepted. */
async function sendAll(fromUrl: string, toId: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const body = v1Body(toId);
    let answer = await postMessage(fromUrl, body);
    // the sender may not have the recipient's (new) list entry yet: the first send is retried until accepted
    const deadline = Date.now() + 10_000;
    while (answer.status !== 202 && Date.now() < deadline) {
      await new Promise((done) => setTimeout(done, 100));
      answer = await postMessage(fromUrl, body);
    }
    expect(answer, `send ${fromUrl} → ${toId}`).toMatchObject({ status: 202 });
    ids.push(body.id);
  }
  return ids;
}

function issuerIs(certFile: string, ca: X509Certificate): boolean {
  return new X509Certificate(readFileSync(certFile)).checkIssued(ca);
}

describe('trust-anchor change-over with live traffic', () => {
  it('publish → activate → retire: 0 lost, no drop but the old-CA agent, refused as UNTRUSTED after retirement', async () => {
    const s1 = await startServerProc('dmr-changeover-1');
    const s2 = await startServerProc('dmr-changeover-2');
    const [idA, idB, idC] = [randomUUID(), randomUUID(), randomUUID()];
    const a = await createAndEnroll(control, pki, idA);
    const b = await createAndEnroll(control, pki, idB);
    const c = await createAndEnroll(control, pki, idC);
    const oldCa = ringCaCertificate(pki, OLD_CA_ID);
    const oldPem = oldCa.toString();
    // A on server 1, B on server 2: every message crosses RabbitMQ between the two servers
    const agentA = await startAgentProc(a, s1.url, oldPem, true);
    const agentB = await startAgentProc(b, s2.url, oldPem, true);
    await waitUntil(async () => (await isReady(agentA.url)) && (await isReady(agentB.url)), 30_000, 'A and B ready');
    await sendAll(agentA.url, idB, 1);
    await sendAll(agentB.url, idA, 1);

    const traffic = new Traffic([
      { name: 'A→B', fromUrl: agentA.url, toId: idB },
      { name: 'B→A', fromUrl: agentB.url, toId: idA },
    ]);
    await new Promise((done) => setTimeout(done, 1500));

    // step 1: publish the new CA beside the old; servers (on the crl announcement) and agents (on their poll) trust both
    const publishedAt = Date.now();
    const published = dmrctlCaRing(control, pki, 'publish', NEW_CA_ID, { certFile: pki.adminCertFile, keyFile: pki.adminKeyFile }, [
      '--common-name',
      'DMR Agents CA 2027',
    ]);
    expect(published, published.stderr).toMatchObject({ status: 0 });
    expect(JSON.parse(published.stdout).ring.cas).toEqual([
      { id: OLD_CA_ID, purpose: 'agents', status: 'active' },
      { id: NEW_CA_ID, purpose: 'agents', status: 'published' },
    ]);
    const newCa = ringCaCertificate(pki, NEW_CA_ID);
    for (const server of [s1, s2]) {
      await waitUntil(
        () => logged(server.proc, { msg: 'CRL put in force', issuer: 'CN=DMR Agents CA 2027' }).length > 0,
        15_000,
        'server trusts the new CA with its CRL',
      );
    }
    for (const agent of [agentA, agentB]) {
      await waitUntil(
        () => logged(agent.proc, { msg: 'peer trust anchors changed; listed peers judged again' }).length > 0,
        15_000,
        'agent trusts both',
      );
    }
    const publishMs = Date.now() - publishedAt;

    // the third agent: a certificate of the old CA, never renewed, and a CA file an operator placed (old + new)
    const agentC = await startAgentProc(c, s1.url, oldPem + newCa.toString(), false);
    await waitUntil(() => isReady(agentC.url), 30_000, 'C ready');
    const overlapToC = await sendAll(agentA.url, idC, 3);
    const overlapFromC = await sendAll(agentC.url, idA, 3);

    // step 2: activate; the servers renew on the crl announcement, the agents on their next poll, all while traffic flows
    const activatedAt = Date.now();
    const activated = dmrctlCaRing(control, pki, 'activate', NEW_CA_ID, { certFile: pki.adminCertFile, keyFile: pki.adminKeyFile });
    expect(activated, activated.stderr).toMatchObject({ status: 0 });
    for (const proc of [s1.proc, s2.proc, agentA.proc, agentB.proc]) {
      await waitUntil(() => logged(proc, { msg: 'certificate renewed' }, activatedAt).length > 0, 20_000, 'renewed onto the new CA');
    }
    const activateMs = Date.now() - activatedAt;
    for (const agent of [agentA, agentB]) {
      await waitUntil(
        () => logged(agent.proc, { msg: 'moved to a new connection with the new client certificate' }, activatedAt).length > 0,
        15_000,
        'agent moved to a connection with its new certificate',
      );
    }
    // still in the overlap: the old-CA agent and the renewed A talk both ways
    const afterActivateToC = await sendAll(agentA.url, idC, 2);
    const afterActivateFromC = await sendAll(agentC.url, idA, 2);

    // step 3: retire the old CA (the admin certificate of the old CA is no longer trusted either: one from the new CA)
    const retiredAt = Date.now();
    const retired = dmrctlCaRing(control, pki, 'retire', OLD_CA_ID, await adminFrom(pki, NEW_CA_ID));
    expect(retired, retired.stderr).toMatchObject({ status: 0 });
    await waitUntil(
      () => logged(s1.proc, { msg: 'dropping live agent connection', agentId: idC, code: 'DMR_AUTH_CERTIFICATE_UNTRUSTED' }).length > 0,
      15_000,
      'server 1 cuts the old-CA agent',
    );
    await waitUntil(
      () =>
        logged(agentC.proc, { msg: 'connection to the DMR server failed', code: 'DMR_AUTH_CERTIFICATE_UNTRUSTED' }, retiredAt).length > 0,
      15_000,
      'the old-CA agent is refused at its reconnect',
    );
    const retireMs = Date.now() - retiredAt;
    expect(await isReady(agentC.url)).toBe(false);
    await new Promise((done) => setTimeout(done, 2000));
    await traffic.stop();

    // 0 lost: every 202 arrived exactly once at its recipient's endpoint
    const all = [
      ...traffic.accepted,
      ...[...overlapToC, ...afterActivateToC].map((id) => ({ id, recipientId: idC })),
      ...[...overlapFromC, ...afterActivateFromC].map((id) => ({ id, recipientId: idA })),
    ];
    const countAt = ({ id, recipientId }: { id: string; recipientId: string }) => receiverOf.get(recipientId)?.countOf(id) ?? 0;
    await waitUntil(() => all.every((sent) => countAt(sent) >= 1), 30_000, 'every accepted message delivered');
    expect(all.filter((sent) => countAt(sent) !== 1)).toEqual([]);
    expect(traffic.refused).toEqual([]);
    expect(traffic.accepted.length).toBeGreaterThan(50);

    // no connection dropped by the change-over except the old-CA agent's
    for (const agent of [agentA, agentB]) {
      expect(logged(agent.proc, { msg: 'disconnected from the DMR server' })).toEqual([]);
      expect(logged(agent.proc, { msg: 'connection to the DMR server failed' })).toEqual([]);
    }
    for (const server of [s1, s2]) {
      const drops = logged(server.proc, { msg: 'dropping live agent connection' });
      expect(drops.map((line) => line.agentId)).toEqual(server === s1 ? [idC] : []);
    }
    // everything in force is from the new CA now
    for (const file of [a.certFile, b.certFile, ...[s1, s2].map((server) => server.certFile)]) expect(issuerIs(file, newCa)).toBe(true);
    expect(issuerIs(c.certFile, oldCa)).toBe(true);
    process.stdout.write(
      `ca-changeover e2e: ${traffic.accepted.length} messages accepted and delivered once during the change-over; publish picked up in ${publishMs} ms, activate → all renewed in ${activateMs} ms, retire → old-CA agent cut and refused in ${retireMs} ms\n`,
    );
  }, 240_000);
});
