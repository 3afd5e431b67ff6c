/**
 * dmr-control as a real process (dist/service/main.js, what bin/dmr-control starts): it starts from its environment,
 * answers over mutual TLS and on its ops port, and stops gracefully on SIGTERM with exit 0; a CA key other users can
 * read, or a bad variable, stops the start with exit 2 naming the variable.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findFreePorts } from '@dmr/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FixturePki, makePki } from './helpers/control-fixture.js';
import { makeTempDir } from './helpers/temp-dir.js';

const MAIN = fileURLToPath(new URL('../../dist/service/main.js', import.meta.url));

let temp: Awaited<ReturnType<typeof makeTempDir>>;
let pki: FixturePki;

beforeAll(async () => {
  temp = await makeTempDir('control-process');
  pki = await makePki(temp.path);
});

afterAll(async () => {
  await temp?.remove();
});

function envFor(port: number, opsPort: number, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    DMR_CONTROL_HOST: '127.0.0.1',
    DMR_CONTROL_PORT: String(port),
    DMR_OPS_PORT: String(opsPort),
    DMR_CONTROL_DATABASE_URL: `sqlite:${join(temp.path, 'process.db')}`,
    DMR_CONTROL_CA_DIR: pki.caDir,
    DMR_TLS_CERT_FILE: join(temp.path, 'certs/control.cert.pem'),
    DMR_TLS_KEY_FILE: join(temp.path, 'certs/control.key.pem'),
    DMR_TLS_CA_FILE: pki.caFile,
    LOGGER_LOG_LEVELS: 'error,warn,info',
    ...extra,
  };
}

function run(env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('dmr-control as a process', () => {
  it('starts, says push is off, answers on the ops port, and exits 0 on SIGTERM', async () => {
    const [port, opsPort] = (await findFreePorts(2)) as [number, number];
    const dmrControl = run(envFor(port, opsPort));
    try {
      await waitFor(() => dmrControl.output().includes('dmr-control started'));
      expect(dmrControl.output()).toContain('config push is off');
      const ready = await fetch(`http://127.0.0.1:${opsPort}/v1/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ready', checks: { store: 'ok', push: 'off', lifecycle: 'running' } });
      expect((await fetch(`http://127.0.0.1:${opsPort}/v1/agents`)).status).toBe(404);
      dmrControl.child.kill('SIGTERM');
      expect(await dmrControl.exited).toBe(0);
      expect(dmrControl.output()).toContain('dmr-control stopped');
    } finally {
      dmrControl.child.kill('SIGKILL');
    }
  });

  it('refuses to start with a CA key group or others can read: exit 2 naming DMR_CONTROL_CA_DIR', async () => {
    const [port, opsPort] = (await findFreePorts(2)) as [number, number];
    const keyPath = join(pki.caDir, 'ca.key.pem');
    await chmod(keyPath, 0o640);
    try {
      const dmrControl = run(envFor(port, opsPort));
      expect(await dmrControl.exited).toBe(2);
      expect(dmrControl.output()).toMatch(/dmr-control: invalid configuration: .*DMR_CONTROL_CA_DIR: the CA key .* mode 0640/);
    } finally {
      await chmod(keyPath, 0o600);
    }
  });

  it('names every bad variable at once, exit 2', async () => {
    const dmrControl = run({ PATH: process.env.PATH, DMR_CONTROL_PORT: 'x', DMR_CONTROL_DATABASE_URL: 'mysql://x' });
    expect(await dmrControl.exited).toBe(2);
    for (const name of ['DMR_CONTROL_PORT', 'DMR_CONTROL_DATABASE_URL', 'DMR_TLS_CERT_FILE']) expect(dmrControl.output()).toContain(name);
  });
});
