// `npm start` as a new user meets it: scripts/local-system.mjs (what `npm start` runs after set-up) starts its own
// RabbitMQ node, dmr-control, dmr-server and agents A and B (which enroll themselves with one-time tokens) over mutual
// TLS, and prints a ready-to-paste curl. The command as
// printed must work: its URL and JSON body are taken from the output and POSTed to agent A, and B's receiver must
// print the delivered message.
import { type ChildProcess, spawn } from 'node:child_process';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findFreePorts } from '@dmr/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probe, waitUntil } from '../support/dmr-system.js';

const root = resolve(import.meta.dirname, '../..');
const SCRIPT = join(root, 'scripts/local-system.mjs');
/** The printed command: `curl -i -X POST <url> -H 'Content-Type: application/json' -d '<json>'`, on one line. */
const CURL_LINE = /^curl -i -X POST (\S+) -H 'Content-Type: application\/json' -d '([^']*)'$/m;
/** What the script's receiver prints for each delivery: a header line, then the body on the next line. */
const DELIVERY = /\[receiver\] agent b delivered:\n(.*)\n/;

describe('npm start (scripts/local-system.mjs)', () => {
  let child: ChildProcess;
  let exited: Promise<number | null>;
  let output = '';
  let controlPort = 0;
  const workDir = mkdtempSync(join(tmpdir(), 'dmr-local-system-'));

  beforeAll(async () => {
    const [server, agentA, agentB, receiver, control] = await findFreePorts(5);
    controlPort = control ?? 0;
    child = spawn(process.execPath, [SCRIPT], {
      env: {
        ...process.env,
        DMR_LOCAL_DIR: workDir,
        DMR_LOCAL_SERVER_PORT: String(server),
        DMR_LOCAL_AGENT_A_PORT: String(agentA),
        DMR_LOCAL_AGENT_B_PORT: String(agentB),
        DMR_LOCAL_RECEIVER_PORT: String(receiver),
        DMR_LOCAL_CONTROL_PORT: String(control),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    exited = new Promise((done) => child.once('exit', (code) => done(code)));
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    await waitUntil(() => CURL_LINE.test(output) || child.exitCode !== null, 110_000, 'the printed curl command');
    if (!CURL_LINE.test(output)) throw new Error(`local-system.mjs printed no curl command:\n${output}`);
  }, 120_000);

  afterAll(async () => {
    // SIGTERM lets the script stop what it started (agents, server, the RabbitMQ node) in order
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(workDir, { recursive: true, force: true });
  }, 60_000);

  it('prints a curl whose JSON body agent A accepts with 202 and B receives as sent', async () => {
    const [, url, json] = CURL_LINE.exec(output) ?? [];
    if (!url || !json) throw new Error('no curl command');
    const sent = JSON.parse(json) as { id: string; payload: { chat: { id: string }; messages: Array<{ chatId: string }> } };

    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ id: sent.id, status: 'accepted' });
    expect(sent.payload.messages[0]?.chatId, 'the message belongs to the chat it is sent with').toBe(sent.payload.chat.id);

    await waitUntil(() => DELIVERY.test(output), 30_000, "B's receiver printing the delivery");
    const delivered = JSON.parse(DELIVERY.exec(output)?.[1] ?? '{}') as Record<string, unknown>;
    const { senderId, ...body } = delivered;
    expect(body).toEqual(sent);
    expect(senderId, 'sent by agent A').toBe(/agent A\s+\S+\s+id (\S+)/.exec(output)?.[1]);
  });

  it('runs dmr-control, whose registry lists both enrolled agents with their certificates', async () => {
    expect((await fetch(`http://127.0.0.1:${controlPort + 100}/v1/ready`)).status).toBe(200);
    const caPem = readFileSync(join(workDir, 'pki/ca/ca.cert.pem'), 'utf8');
    const registry = await probe(`https://127.0.0.1:${controlPort}/centops/configuration`, caPem);
    expect(registry.status).toBe(200);
    const listed = (JSON.parse(registry.text) as { response: Array<{ id: string; authentication_certificate: string }> }).response;
    const ids = ['A', 'B'].map((name) => new RegExp(`agent ${name}\\s+\\S+\\s+id (\\S+)`).exec(output)?.[1]);
    expect(listed.map((agent) => agent.id).sort()).toEqual([...ids].sort());
    for (const agent of listed) expect(agent.authentication_certificate).toContain('BEGIN CERTIFICATE');
  });

  it('lets each agent enroll itself with its token: its own key (0600) under the certificate dmr-control lists', async () => {
    const caPem = readFileSync(join(workDir, 'pki/ca/ca.cert.pem'), 'utf8');
    const registry = await probe(`https://127.0.0.1:${controlPort}/centops/configuration`, caPem);
    const listed = (JSON.parse(registry.text) as { response: Array<{ id: string; authentication_certificate: string }> }).response;
    for (const name of ['a', 'b']) {
      const keyFile = join(workDir, `agent-${name}.key.pem`);
      expect(statSync(keyFile).mode & 0o777, `agent ${name}'s key file`).toBe(0o600);
      const id = new RegExp(`agent ${name.toUpperCase()}\\s+\\S+\\s+id (\\S+)`).exec(output)?.[1];
      const certificate = new X509Certificate(listed.find((agent) => agent.id === id)?.authentication_certificate ?? '');
      const ownKey = createPublicKey(readFileSync(keyFile, 'utf8'));
      expect(certificate.publicKey.export({ type: 'spki', format: 'der' })).toEqual(ownKey.export({ type: 'spki', format: 'der' }));
      expect(readFileSync(join(workDir, `agent-${name}.cert.pem`), 'utf8')).toContain('BEGIN CERTIFICATE');
    }
  });
});
