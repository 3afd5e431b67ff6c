// Issue 18's acceptance over real processes: dmr-control (SQLite, its own CA, push on RabbitMQ), one dmr-server that
// reads the registry and the CRL from it, and two dmr-agents whose certificates came from POST /v1/enroll. Disabling an
// agent through the admin API cuts it at once and makes sends to it fail with DMR_ROUTE_RECIPIENT_DISABLED; what was
// queued for it before stays queued and arrives once it is enabled again; revoking a certificate cuts its agent.
import { randomUUID } from 'node:crypto';
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
let server: Proc;
let serverUrl = '';
const procs: Proc[] = [];

beforeAll(async () => {
  rabbit = await useRabbitVhost();
  pki = await makeControlPki();
  control = await startControlProcess(pki, rabbit);
  procs.push(control.proc);
  const [port = 0] = await findFreePorts(1);
  serverUrl = `https://127.0.0.1:${port}`;
  server = launch(
    SERVER_BIN,
    serverEnv(rabbit, `${control.url}/centops/configuration`, {
      PORT: String(port),
      // the poll is the safety net; the push on dmr.control is what this test relies on
      CENTOPS_CONFIGURATION_CRON_TIME: '0 */30 * * * *',
      CENTOPS_CONFIGURATION_CA_FILE: pki.caFile,
      CENTOPS_ALLOW_EMPTY_REGISTRY: 'true',
      DMR_ALLOW_PLAINTEXT: 'false',
      DMR_TLS_CERT_FILE: pki.serverCertFile,
      DMR_TLS_KEY_FILE: pki.serverKeyFile,
      DMR_TLS_CA_FILE: pki.caFile,
      DMR_TLS_CRL_URL: `${control.url}/v1/crl`,
    }),
  );
  procs.push(server);
  await waitUntil(
    async () => (await probe(`${serverUrl}/v1/ready`, pki.caPem).catch(() => undefined))?.status === 200,
    30_000,
    'server ready',
  );
}, 90_000);

afterAll(async () => {
  for (const proc of procs.splice(0).reverse()) {
    if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
    await proc.exited;
  }
  await rabbit?.cleanup();
  if (pki) removeControlPki(pki);
});

/** Starts an agent process with its enrolled files; the same key signs its handshakes and opens its messages. */
async function startAgent(agent: EnrolledAgent, port: number, endpoint: string): Promise<Proc> {
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
    LOGGER_LOG_LEVELS: 'error,warn,log,debug',
  });
  procs.push(proc);
  return proc;
}

async function isReady(port: number): Promise<boolean> {
  return (await fetch(`http://127.0.0.1:${port}/v1/ready`).catch(() => undefined))?.status === 200;
}

/** ms from `since` until the server logged `msg` for `agentId` (polled every 10 ms), or throws after `timeoutMs`. */
async function serverLogged(agentId: string, messages: readonly string[], since: number, timeoutMs: number): Promise<number> {
  const seen = () => server.lines().some((line) => line.agentId === agentId && messages.includes(String(line.msg)));
  const deadline = since + timeoutMs + 3_000;
  while (!seen()) {
    if (Date.now() > deadline) throw new Error(`the server never logged ${messages.join(' | ')} for ${agentId}`);
    await new Promise((done) => setTimeout(done, 10));
  }
  return Date.now() - since;
}

describe('dmr-control drives a real dmr-server and real agents', () => {
  it('enroll → relay → disable (cut, refused) → re-enable (queued messages arrive) → revoke (cut)', async () => {
    const idA = randomUUID();
    const idB = randomUUID();
    const a = await createAndEnroll(control, pki, idA);
    const b = await createAndEnroll(control, pki, idB);
    const receiverA = await new Receiver().start();
    const receiverB = await new Receiver().start();
    try {
      const [portA = 0, portB = 0] = await findFreePorts(2);
      let agentA = await startAgent(a, portA, receiverA.url);
      let agentB = await startAgent(b, portB, receiverB.url);
      await waitUntil(async () => (await isReady(portA)) && (await isReady(portB)), 30_000, 'both agents ready');
      const agentAUrl = `http://127.0.0.1:${portA}`;

      // relay A → B with certificates from the control plane
      const first = v1Body(idB);
      let sent = await postMessage(agentAUrl, first);
      await waitUntil(
        async () => {
          sent = await postMessage(agentAUrl, first);
          return sent.status === 202;
        },
        10_000,
        'A knows B',
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}; last answer ${JSON.stringify(sent)}; server: ${server.output.join('').slice(-3000)}`);
      });
      await waitUntil(() => receiverB.countOf(first.id) === 1, 10_000, 'first message at B');

      // disable B while it is connected: the server cuts it, and A's send is refused with a clear code
      const disabledAt = Date.now();
      const disabled = await patchAgent(control, pki, idB, { enabled: false });
      expect(disabled.status).toBe(200);
      const apiReturned = Date.now();
      const cutMs = await serverLogged(idB, ['dropping live connection of a disabled agent'], apiReturned, 2_000);
      process.stdout.write(`control-plane e2e: disable → B cut on the server in ${cutMs} ms (PATCH took ${apiReturned - disabledAt} ms)\n`);
      expect(cutMs).toBeLessThanOrEqual(2_000);
      await waitUntil(async () => !(await isReady(portB)), 5_000, "B's agent reports itself disconnected");
      let refused = await postMessage(agentAUrl, v1Body(idB));
      await waitUntil(
        async () => {
          refused = await postMessage(agentAUrl, v1Body(idB));
          return refused.status !== 202 && refused.body.code === 'DMR_ROUTE_RECIPIENT_DISABLED';
        },
        5_000,
        'A refuses sends to the disabled B',
      );
      expect(refused).toMatchObject({ status: 409, body: { code: 'DMR_ROUTE_RECIPIENT_DISABLED' } });

      // re-enable: B's agent reconnects by itself and traffic flows again
      expect((await patchAgent(control, pki, idB, { enabled: true })).status).toBe(200);
      await waitUntil(() => isReady(portB), 10_000, 'B reconnected after re-enable');
      const second = v1Body(idB);
      await waitUntil(async () => (await postMessage(agentAUrl, second)).status === 202, 10_000, 'A knows B again');
      await waitUntil(() => receiverB.countOf(second.id) === 1, 10_000, 'second message at B');

      // messages sent while B is offline stay queued through a disable and arrive after the re-enable
      agentB.child.kill('SIGTERM');
      expect(await agentB.exited).toBe(0);
      const queued = [v1Body(idB), v1Body(idB)];
      for (const body of queued) expect((await postMessage(agentAUrl, body)).status).toBe(202);
      expect((await patchAgent(control, pki, idB, { enabled: false })).status).toBe(200);
      await waitUntil(
        async () => (await postMessage(agentAUrl, v1Body(idB))).body.code === 'DMR_ROUTE_RECIPIENT_DISABLED',
        5_000,
        'refused while disabled',
      );
      // a sender that starts (or reconnects) while B is disabled gets a full list, which names B as disabled: it still
      // answers DMR_ROUTE_RECIPIENT_DISABLED, not DMR_VALIDATION_UNKNOWN_RECIPIENT
      agentA.child.kill('SIGTERM');
      expect(await agentA.exited).toBe(0);
      agentA = await startAgent(a, portA, receiverA.url);
      await waitUntil(() => isReady(portA), 10_000, 'A restarted');
      let afterRestart = await postMessage(agentAUrl, v1Body(idB));
      await waitUntil(
        async () => {
          afterRestart = await postMessage(agentAUrl, v1Body(idB));
          return afterRestart.body.code === 'DMR_ROUTE_RECIPIENT_DISABLED';
        },
        5_000,
        'the restarted A names B disabled from its full list',
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}; last answer ${JSON.stringify(afterRestart)}`);
      });
      expect(afterRestart).toMatchObject({ status: 409, body: { code: 'DMR_ROUTE_RECIPIENT_DISABLED' } });
      agentB = await startAgent(b, portB, receiverB.url);
      await waitUntil(
        () =>
          server
            .lines()
            .some(
              (line) =>
                line.msg === 'agent handshake refused' && line.code === 'DMR_AUTH_AGENT_DISABLED' && String(line.reason).includes(idB),
            ),
        10_000,
        'the disabled B is refused at the handshake',
      );
      expect(await isReady(portB)).toBe(false);
      for (const body of queued) expect(receiverB.countOf(body.id)).toBe(0);
      expect((await patchAgent(control, pki, idB, { enabled: true })).status).toBe(200);
      await waitUntil(() => isReady(portB), 10_000, 'B reconnected');
      await waitUntil(() => queued.every((body) => receiverB.countOf(body.id) === 1), 10_000, 'queued messages at B');

      // revoking A's certificate through the API cuts A on the server within 5 s
      const revokeStarted = Date.now();
      const revoked = await callControl(control, pki, {
        method: 'POST',
        path: `/v1/certificates/${a.serial}/revocation`,
        body: { reason: 'keyCompromise' },
      });
      expect(revoked.status).toBe(200);
      const revokeReturned = Date.now();
      const revokeCutMs = await serverLogged(idA, ['disconnecting agent', 'agent disconnected'], revokeReturned, 5_000);
      process.stdout.write(
        `control-plane e2e: revoke → A cut on the server in ${revokeCutMs} ms (API took ${revokeReturned - revokeStarted} ms)\n`,
      );
      expect(revokeCutMs).toBeLessThanOrEqual(5_000);
      await waitUntil(async () => !(await isReady(portA)), 5_000, "A's agent reports itself disconnected");
    } finally {
      await receiverA.close();
      await receiverB.close();
    }
  }, 180_000);
});
