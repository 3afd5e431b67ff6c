/**
 * A burst of connections while the agent's event loop is busy must wait in the kernel's accept queue, not be
 * dropped: a dropped SYN costs the client a retransmit after 1 s (then 3 s, 7 s). With Node's default backlog of
 * 511, about two thirds of this burst were dropped; the agent asks for LISTEN_BACKLOG.
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type AgentFixture, makeAgent } from './helpers/agent-fixture.js';
import { Receiver } from './helpers/receiver.js';
import { TestDmrServer } from './helpers/test-dmr-server.js';

const CONNECTIONS = 1500;
const BLOCKED_MS = 400;

/**
 * The kernel's own count of connections dropped because a listener's accept queue was full (TcpExt ListenOverflows,
 * this network namespace): an event count, where a wall-clock bound on the slowest connect failed on a loaded machine.
 */
function listenOverflows(): number {
  const [names = '', values = ''] = readFileSync('/proc/net/netstat', 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('TcpExt:'));
  const index = names.split(' ').indexOf('ListenOverflows');
  const count = Number(values.split(' ')[index]);
  if (index < 0 || !Number.isSafeInteger(count)) throw new Error('TcpExt ListenOverflows not found in /proc/net/netstat');
  return count;
}

// The connecting side runs in its own process: this one is about to block its event loop, as a CPU-bound agent does.
const CONNECTOR = `
const net = require('node:net');
const [port, count] = process.argv.slice(2).map(Number);
const sockets = [];
let failed = 0, done = 0;
process.on('message', () => {
  for (let i = 0; i < count; i++) {
    const socket = net.connect(port, '127.0.0.1');
    sockets.push(socket);
    const finish = (ok) => { if (!ok) failed++; if (++done === count) report(); };
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  }
});
function report() { process.send({ failed }); for (const s of sockets) s.destroy(); }
`;

// the link only needs somewhere to connect: what is tested is the agent's own HTTP listener
describe('HTTP listen backlog (link to a stand-in server, TestDmrServer)', () => {
  let server: TestDmrServer | undefined;
  let receiver: Receiver | undefined;
  let fixture: AgentFixture | undefined;

  afterEach(async () => {
    await fixture?.agent.stop();
    await server?.close();
    await receiver?.close();
  });

  it(`takes a burst of ${CONNECTIONS} connections during a ${BLOCKED_MS} ms stall without dropping one (no 1 s SYN retransmit)`, async () => {
    receiver = await Receiver.start();
    server = await TestDmrServer.start();
    fixture = makeAgent({ id: randomUUID(), serverUrl: server.url, endpointUrl: receiver.url });
    await fixture.agent.start();
    const { port } = fixture.agent.app.server.address() as AddressInfo;
    const script = join(tmpdir(), `dmr-connector-${randomUUID()}.cjs`);
    writeFileSync(script, CONNECTOR);
    const connector = fork(script, [String(port), String(CONNECTIONS)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    try {
      await new Promise((resolve) => connector.once('spawn', resolve));
      const result = new Promise<{ failed: number }>((resolve) => connector.once('message', resolve as never));
      const overflowsBefore = listenOverflows();
      connector.send('go');
      // the agent's loop is blocked while the burst arrives: nothing is accepted until it is free again
      const until = performance.now() + BLOCKED_MS;
      while (performance.now() < until) {
        // busy on purpose
      }
      const { failed } = await result;
      expect(failed).toBe(0);
      // no SYN was dropped for a full accept queue: every connection completed on its first SYN, with no 1 s retransmit
      // (the counter is per namespace, so another test's overflowing listener would show here too: that fails loudly,
      // never silently passes)
      expect(listenOverflows() - overflowsBefore).toBe(0);
    } finally {
      connector.kill();
      rmSync(script, { force: true });
    }
  });
});
