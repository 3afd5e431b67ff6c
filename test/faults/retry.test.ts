// Issue #3, item 4: a caller may retry a POST with the same id after a 504 (or 502) without creating a
// duplicate at the endpoint. The 504 is forced for a message that WAS queued: the server's acknowledgements to
// agent A are held back on the wire (a proxy between them) past MESSAGE_DELIVERY_TIMEOUT_MS, while the server
// publishes and RabbitMQ confirms. The retry is queued a second time; agent B's duplicate window suppresses it.
import { afterEach, describe, expect, it } from 'vitest';
import { postMessage, v1Body, waitUntil } from '../support/dmr-system.js';
import { type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { cleanUp, FaultWorld } from './support/world.js';

describe('retrying a POST with the same id', () => {
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

  it('after a 504 whose message was in fact queued: 202, and the endpoint still gets it exactly once', async () => {
    rabbit = await useRabbitVhost();
    const w = await new FaultWorld({ ...rabbit, hosts: '127.0.0.1', managementUris: rabbit.managementBase }).open();
    world = w;
    const server = await w.startServer('server-1');
    proxy = await new TcpProxy(server.port).start();
    const agentA = await w.startAgent('agent-a', w.a, [`http://127.0.0.1:${proxy.port}`], { MESSAGE_DELIVERY_TIMEOUT_MS: '1500' });
    const agentB = await w.startAgent('agent-b', w.b, [server.url]);
    const queuedLines = (id: string) => server.proc.find({ msg: 'message outcome', stage: 'inbound', result: 'queued', msgId: id });

    const body = v1Body(w.b.id);
    proxy.hold('to-client');
    const first = await postMessage(agentA.url, body);
    expect(first.status).toBe(504);
    expect(first.body.code).toBe('DMR_LINK_TIMEOUT');
    // the 504 was a lie of timing only: the server queued the message
    await waitUntil(() => queuedLines(body.id).length === 1, 10_000, 'server logged the message as queued');
    await waitUntil(() => w.endpoint.deliveredIds().has(body.id), 10_000, 'the first copy delivered');
    proxy.release();

    const retry = await postMessage(agentA.url, body);
    expect(retry.status).toBe(202);
    await waitUntil(() => queuedLines(body.id).length === 2, 10_000, 'the retry queued as a second copy');
    const isDuplicateLogged = () => agentB.proc.find({ msg: 'message outcome', msgId: body.id, result: 'duplicate' }).length === 1;
    await waitUntil(isDuplicateLogged, 10_000, 'agent B suppressed the second copy');
    expect(w.endpoint.accepted.filter((entry) => entry.id === body.id)).toHaveLength(1);
    // agent B itself held it back: the endpoint did not have to recognise a re-post by its Idempotency-Key
    expect(w.endpoint.reposts.filter((entry) => entry.id === body.id)).toHaveLength(0);
    process.stdout.write('retry after 504: first POST 504 (queued), retry 202 (queued again), endpoint received it 1×\n');
  });
});
