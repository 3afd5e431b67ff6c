// Issue 15: an unhandled rejection or uncaught exception in a dmr-server or dmr-agent process is logged with its
// code and counted in dmr_process_unhandled_errors_total, never a process exit. The real deployables run as
// processes; a preloaded module raises both kinds of error on SIGUSR2, standing for a bug nobody has found yet.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findFreePorts } from '@dmr/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { makeIdentity, peerCaFile, RegistryFile, serverEnv, waitUntil } from '../support/dmr-system.js';
import { useRabbitVhost } from '../support/rabbit.js';

const root = resolve(import.meta.dirname, '../..');
const SERVER_BIN = join(root, 'packages/server/dist/main.js');
const AGENT_BIN = join(root, 'packages/agent/dist/main.js');
// escapes every handler on purpose: a rejection nobody awaits, then an exception thrown from a timer
const BUG = `data:text/javascript,process.on('SIGUSR2',()=>{Promise.reject(new Error('escaped rejection'));setTimeout(()=>{throw new Error('escaped exception')},10)})`;

interface Proc {
  readonly child: ChildProcess;
  readonly output: string[];
  readonly exited: Promise<number | null>;
}

const running: Proc[] = [];
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const proc of running.splice(0)) {
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
    await proc.exited;
  }
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function launch(bin: string, env: Record<string, string>): Proc {
  const child = spawn(process.execPath, ['--import', BUG, bin], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const proc = { child, output, exited };
  running.push(proc);
  return proc;
}

async function status(url: string): Promise<number> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
  await response?.body?.cancel();
  return response?.status ?? 0;
}

/** Raises both errors in `proc`, then checks it serves on, logged both with their code and counted both. */
async function expectSurvives(proc: Proc, baseUrl: string): Promise<void> {
  proc.child.kill('SIGUSR2');
  const counted = async () => {
    const text = await (await fetch(`${baseUrl}/metrics`)).text();
    return ['unhandledRejection', 'uncaughtException'].every((kind) =>
      text.includes(`dmr_process_unhandled_errors_total{kind="${kind}",code="DMR_INTERNAL_ERROR"} 1`),
    );
  };
  const exitedEarly = proc.exited.then((code) => `exited with ${code}`);
  const outcome = await Promise.race([waitUntil(counted, 20_000, 'both errors counted').then(() => 'counted'), exitedEarly]);
  expect(outcome, proc.output.join('').slice(-2000)).toBe('counted');
  expect(proc.child.exitCode).toBeNull();
  expect(await status(`${baseUrl}/v1/health`)).toBe(200);
  const lines = proc.output
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const logged = lines.filter((line) => line.msg === 'unhandled error survived; serving on');
  expect(logged.map((line) => [line.kind, line.code, line.level])).toEqual([
    ['unhandledRejection', 'DMR_INTERNAL_ERROR', 'error'],
    ['uncaughtException', 'DMR_INTERNAL_ERROR', 'error'],
  ]);
}

describe('process-level crash protection', () => {
  it('dmr-server logs and counts an unhandled rejection and an uncaught exception, and serves on', async () => {
    const rabbit = await useRabbitVhost();
    cleanups.push(() => rabbit.cleanup());
    const registry = new RegistryFile([await makeIdentity('ec')]);
    cleanups.push(() => registry.remove());
    const [port = 0] = await findFreePorts(1);
    const server = launch(SERVER_BIN, serverEnv(rabbit, registry.url, { PORT: String(port), LOGGER_LOG_LEVELS: 'error,warn,log' }));
    const url = `http://127.0.0.1:${port}`;
    await waitUntil(async () => (await status(`${url}/v1/ready`)) === 200, 20_000, 'server process ready');
    await expectSurvives(server, url);
  });

  it('dmr-agent logs and counts an unhandled rejection and an uncaught exception, and serves on', async () => {
    const identity = await makeIdentity('ec');
    const keyDir = mkdtempSync(join(tmpdir(), 'dmr-keys-'));
    cleanups.push(() => rmSync(keyDir, { recursive: true, force: true }));
    const keyFile = join(keyDir, 'agent.pem');
    writeFileSync(keyFile, identity.privatePem, { mode: 0o600 });
    chmodSync(keyFile, 0o600);
    const [port = 0, nobody = 0] = await findFreePorts(2);
    const agent = launch(AGENT_BIN, {
      PORT: String(port),
      HOST: '127.0.0.1',
      AGENT_ID: identity.id,
      AGENT_PRIVATE_KEY_FILE: keyFile,
      // no server is needed to be alive: the link keeps retrying while the HTTP side serves
      DMR_SERVER_WEBSOCKET_URL: `http://127.0.0.1:${nobody}`,
      DMR_ALLOW_PLAINTEXT: 'true',
      DMR_PEER_CA_FILE: await peerCaFile(),
      OUTGOING_MESSAGE_ENDPOINT: `http://127.0.0.1:${nobody}/inbox`,
      LOGGER_LOG_LEVELS: 'error,warn,log',
    });
    const url = `http://127.0.0.1:${port}`;
    await waitUntil(async () => (await status(`${url}/v1/health`)) === 200, 20_000, 'agent process alive');
    await expectSurvives(agent, url);
  });
});
