// Issue #3, item 3: messages of one chat reach B's endpoint in the order A accepted them, also across
// reconnects and while failed messages are retried. Few chats with deep backlogs, so every reconnect and every
// failure happens with many messages of the same chat in flight at once.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';
import { expectNoLoss, runScenario } from './support/scenario.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { cleanUp, FaultWorld } from './support/world.js';

describe('per-chat order', () => {
  let rabbit: RabbitVhostHandle | undefined;
  let world: FaultWorld | undefined;
  let proxy: TcpProxy | undefined;

  afterEach(async () => {
    const steps = [proxy?.close.bind(proxy), world?.close.bind(world), rabbit?.cleanup.bind(rabbit)];
    proxy = undefined;
    world = undefined;
    rabbit = undefined;
    await cleanUp(...steps);
  });

  it('holds across socket drops and endpoint failures: 5 chats × 200, each chat in acceptance order', { timeout: 240_000 }, async () => {
    rabbit = await useRabbitVhost();
    const w = await new FaultWorld({ ...rabbit, hosts: '127.0.0.1', managementUris: rabbit.managementBase }).open();
    world = w;
    const server = await w.startServer('server-1', { DMR_REDELIVERY_DELAY_MS: '100', DMR_REDELIVERY_DELAY_MAX_MS: '1000' });
    proxy = await new TcpProxy(server.port).start();
    const agentA = await w.startAgent('agent-a', w.a, [server.url]);
    await w.startAgent('agent-b', w.b, [`http://127.0.0.1:${proxy.port}`], {
      OUTGOING_MESSAGE_RETRIES: '1',
      DMR_CHAT_ORDER_HOLD_MS: '5000',
    });
    // a slow endpoint keeps a backlog of every chat in B's window
    w.endpoint.latencyMs = 3;
    const cutter = proxy;
    const run = await runScenario({
      name: 'per-chat order (5 chats × 200, drops + failures)',
      world: w,
      agentUrls: [agentA.url],
      plan: { chats: 5, perChat: 200 },
      faultAfter: 150,
      fault: async () => {
        for (let round = 0; round < 3; round++) {
          cutter.cut();
          await sleep(700);
          // failures while reconnected: failed messages are retried in place, their chats wait for them
          w.endpoint.setMode('fail-500');
          await sleep(400);
          cutter.cut();
          await sleep(300);
          w.endpoint.setMode('ok');
          await sleep(700);
        }
      },
    });
    expectNoLoss(run, w);
    expect(w.endpoint.refused).toBeGreaterThan(0);
    // the strongest form: per chat, the first deliveries ARE the acceptance order, with nothing missing in between
    for (const [chatId, ids] of run.stream.acceptOrder) {
      const firsts = [...new Set(w.endpoint.accepted.filter((entry) => entry.chatId === chatId).map((entry) => entry.id))];
      expect(firsts).toEqual(ids);
    }
  });
});
