// Issue 17: configuration that would do nothing, or cannot work, stops the built processes at start with exit code 2
// and one line naming the variable: WEB_SOCKET_MAX_DISCONNECTION_DURATION (seed 003; DMR does not use Socket.IO
// connection-state recovery) and bad DMR_OPS_HOST / DMR_OPS_PORT values.
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeIdentity } from '../support/dmr-system.js';

const root = resolve(import.meta.dirname, '../..');
const SERVER_BIN = join(root, 'packages/server/dist/main.js');
const AGENT_BIN = join(root, 'packages/agent/dist/main.js');

/** Runs a bin to its exit (it must exit by itself within 20 s); returns its exit code and everything it printed. */
function run(bin: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [bin], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

// valid otherwise: without the variable under test these would start (and fail later, on the unreachable broker)
const SERVER_BASE = {
  PORT: '0',
  HOST: '127.0.0.1',
  CENTOPS_CONFIGURATION_URL: 'file:///nonexistent/agents.json',
  RABBITMQ_DEFAULT_HOST: '127.0.0.1',
  RABBITMQ_DEFAULT_PORT: '1',
  RABBITMQ_DEFAULT_MANAGEMENT_UI_URI: 'http://127.0.0.1:1',
  RABBITMQ_DEFAULT_USER: 'dmr',
  RABBITMQ_DEFAULT_PASS: 'unused',
  DMR_ALLOW_PLAINTEXT: 'true',
};

describe('configuration refused at start', () => {
  it('dmr-server: WEB_SOCKET_MAX_DISCONNECTION_DURATION exits 2 naming the variable, why, and where it is documented', async () => {
    const result = await run(SERVER_BIN, { ...SERVER_BASE, WEB_SOCKET_MAX_DISCONNECTION_DURATION: '120000' });
    expect(result.code).toBe(2);
    expect(result.output).toMatch(/^dmr-server: invalid configuration: WEB_SOCKET_MAX_DISCONNECTION_DURATION is not supported/m);
    expect(result.output).toContain('does not use Socket.IO connection-state recovery');
    expect(result.output).toContain('redelivered from RabbitMQ after a reconnect');
    expect(result.output).toContain('packages/server/README.md');
    expect(result.output).not.toMatch(/^\s+at /m);
  });

  it('dmr-server: DMR_OPS_HOST without DMR_OPS_PORT and DMR_OPS_PORT equal to PORT exit 2 naming the variables', async () => {
    const result = await run(SERVER_BIN, { ...SERVER_BASE, PORT: '18443', DMR_OPS_PORT: '18443' });
    expect(result.code).toBe(2);
    expect(result.output).toContain('DMR_OPS_PORT (18443) must differ from PORT');
    const hostOnly = await run(SERVER_BIN, { ...SERVER_BASE, DMR_OPS_HOST: '0.0.0.0' });
    expect(hostOnly.code).toBe(2);
    expect(hostOnly.output).toContain('DMR_OPS_HOST is set but DMR_OPS_PORT is not');
  });

  it('dmr-agent: a bad DMR_OPS_PORT exits 2 naming the variable', async () => {
    const agent = await makeIdentity('ec');
    const result = await run(AGENT_BIN, {
      AGENT_ID: agent.id,
      AGENT_PRIVATE_KEY: agent.privatePem,
      DMR_SERVER_WEBSOCKET_URL: 'http://127.0.0.1:1',
      OUTGOING_MESSAGE_ENDPOINT: 'http://127.0.0.1:1/inbox',
      DMR_ALLOW_PLAINTEXT: 'true',
      DMR_ALLOW_UNVERIFIED_PEER_KEYS: 'true',
      DMR_OPS_PORT: 'metrics',
    });
    expect(result.code).toBe(2);
    expect(result.output).toMatch(/^dmr-agent: invalid configuration: .*DMR_OPS_PORT must be an integer, got "metrics"/m);
  });
});
