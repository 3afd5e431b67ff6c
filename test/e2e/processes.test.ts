// The deployables as operators run them: real `dmr-server` and `dmr-agent` processes configured only by
// environment variables, refusing bad configuration clearly, and stopping cleanly on SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findFreePorts } from '@dmr/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  agentTlsEnv,
  makeIdentity,
  postMessage,
  probe,
  Receiver,
  RegistryFile,
  serverEnv,
  serverTlsEnv,
  v1Body,
  waitUntil,
} from '../support/dmr-system.js';
import { useRabbitVhost } from '../support/rabbit.js';

const root = resolve(import.meta.dirname, '../..');
const SERVER_BIN = join(root, 'packages/server/dist/main.js');
const AGENT_BIN = join(root, 'packages/agent/dist/main.js');

interface Proc {
  readonly child: ChildProcess;
  readonly output: string[];
  readonly exited: Promise<number | null>;
}

const running: Proc[] = [];
afterEach(async () => {
  for (const proc of running.splice(0)) {
    if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
    await proc.exited;
  }
});

function launch(bin: string, env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [bin], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const proc = { child, output, exited };
  running.push(proc);
  return proc;
}

/** Every line `proc` wrote, each parsed as one JSON object; a line that is not JSON fails the test, naming it. */
function jsonLines(proc: Proc): Array<Record<string, unknown>> {
  return proc.output
    .join('')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      try {
        const parsed: unknown = JSON.parse(line);
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
      } catch {
        // reported below
      }
      throw new Error(`a log line that is not one JSON object: ${line.slice(0, 200)}`);
    });
}

describe('dmr-server and dmr-agent processes', () => {
  it('refuse to start on bad configuration, naming every bad variable, with exit code 2', async () => {
    const server = launch(SERVER_BIN, { PORT: 'eighty', RABBITMQ_DEFAULT_HOST: 'localhost' });
    expect(await server.exited).toBe(2);
    const serverText = server.output.join('');
    for (const name of ['PORT', 'CENTOPS_CONFIGURATION_URL', 'RABBITMQ_DEFAULT_PORT', 'RABBITMQ_DEFAULT_USER', 'RABBITMQ_DEFAULT_PASS']) {
      expect(serverText).toContain(name);
    }
    const agent = launch(AGENT_BIN, { AGENT_ID: 'bad id!', OUTGOING_MESSAGE_ENDPOINT: 'ftp://x' });
    expect(await agent.exited).toBe(2);
    const agentText = agent.output.join('');
    for (const name of ['AGENT_ID', 'DMR_SERVER_WEBSOCKET_URL', 'AGENT_PRIVATE_KEY', 'OUTGOING_MESSAGE_ENDPOINT'])
      expect(agentText).toContain(name);
  });

  it('relay a message as processes over mutual TLS, log one JSON outcome line per message without content, and exit 0 on SIGTERM', async () => {
    const rabbit = await useRabbitVhost();
    const a = await makeIdentity('ec');
    const b = await makeIdentity('rsa');
    const registry = new RegistryFile([a, b]);
    const receiver = await new Receiver().start();
    const keyDir = mkdtempSync(join(tmpdir(), 'dmr-keys-'));
    try {
      const [serverPort = 0, portA = 0, portB = 0] = await findFreePorts(3);
      const server = launch(SERVER_BIN, { ...serverEnv(rabbit, registry.url, { PORT: String(serverPort) }), ...(await serverTlsEnv()) });
      const serverUrl = `https://127.0.0.1:${serverPort}`;
      await waitUntil(
        async () => (await probe(`${serverUrl}/v1/ready`).catch(() => undefined))?.status === 200,
        20_000,
        'server process ready',
      );
      const agentEnv = async (identity: typeof a, port: number) => {
        const keyFile = join(keyDir, `${identity.id}.pem`);
        writeFileSync(keyFile, identity.privatePem, { mode: 0o600 });
        chmodSync(keyFile, 0o600);
        return {
          PORT: String(port),
          HOST: '127.0.0.1',
          AGENT_ID: identity.id,
          AGENT_PRIVATE_KEY_FILE: keyFile,
          DMR_SERVER_WEBSOCKET_URL: serverUrl,
          OUTGOING_MESSAGE_ENDPOINT: receiver.url,
          ...(await agentTlsEnv(identity.id)),
        };
      };
      const agentA = launch(AGENT_BIN, await agentEnv(a, portA));
      const agentB = launch(AGENT_BIN, await agentEnv(b, portB));
      for (const port of [portA, portB]) {
        await waitUntil(
          async () => (await fetch(`http://127.0.0.1:${port}/v1/ready`).catch(() => undefined))?.status === 200,
          20_000,
          `agent ${port} ready`,
        );
      }
      const body = v1Body(b.id);
      expect((await postMessage(`http://127.0.0.1:${portA}`, body)).status).toBe(202);
      await waitUntil(() => receiver.countOf(body.id) === 1, 10_000, 'delivered through processes');

      for (const proc of [agentA, agentB, server]) proc.child.kill('SIGTERM');
      expect(await Promise.all([agentA.exited, agentB.exited, server.exited])).toEqual([0, 0, 0]);

      const content = body.payload.messages[0]?.content ?? '';
      for (const proc of [agentA, agentB, server]) {
        const text = proc.output.join('');
        expect(text).not.toContain(content);
        expect(text).not.toContain('alice@example.com');
      }
      // every line of every process is one JSON object, and each process logged exactly one outcome per stage
      const [linesA, linesB, serverLines] = [agentA, agentB, server].map(jsonLines);
      const outcomesOf = (lines: ReadonlyArray<Record<string, unknown>>) => lines.filter((line) => line.msg === 'message outcome');
      const serverOutcomes = outcomesOf(serverLines ?? []);
      expect(serverOutcomes.map((line) => [line.msgId, line.stage, line.result])).toEqual(
        expect.arrayContaining([
          [body.id, 'inbound', 'queued'],
          [body.id, 'delivery', 'delivered'],
        ]),
      );
      expect(serverOutcomes, 'the server: one line for queueing, one for the delivery').toHaveLength(2);
      for (const line of serverOutcomes) expect(line).toMatchObject({ senderId: a.id, recipientId: b.id, type: 'ChatMessage' });
      const outcomeFields = { msgId: body.id, senderId: a.id, recipientId: b.id, type: 'ChatMessage' };
      expect(outcomesOf(linesA ?? []), 'agent A: one outbound line').toEqual([
        expect.objectContaining({ ...outcomeFields, direction: 'outbound', result: 'accepted' }),
      ]);
      expect(outcomesOf(linesB ?? []), 'agent B: one inbound line').toEqual([
        expect.objectContaining({ ...outcomeFields, direction: 'inbound', result: 'delivered' }),
      ]);
    } finally {
      await receiver.close();
      registry.remove();
      rmSync(keyDir, { recursive: true, force: true });
      await rabbit.cleanup();
    }
  });
});
