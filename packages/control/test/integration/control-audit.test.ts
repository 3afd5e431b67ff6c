/**
 * dmr-control with DMR_AUDIT_WRITER=on on a real RabbitMQ (the run's private node, a vhost of this file's own): an
 * admin change is published from the change log to dmr.audit, consumed by the writer into the Merkle log, covered by
 * a signed head within DMR_AUDIT_HEAD_EVERY_MS, counted in dmr_audit_entries_total, and `dmrctl audit verify`
 * accepts the log against the control plane's CA; `dmrctl audit prove` proves the event.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RabbitVhostHandle, useRabbitVhost } from '../../../../test/support/rabbit.js';
import { runCli } from '../../src/cli/program.js';
import { collect, openAudit } from '../helpers/audit-fixture.js';
import { type ControlFixture, IDENTITY_HEADER, injectIdentity, startControl } from './helpers/control-fixture.js';

let rabbit: RabbitVhostHandle;
let fixture: ControlFixture;

beforeAll(async () => {
  rabbit = await useRabbitVhost();
  fixture = await startControl(
    {
      RABBITMQ_DEFAULT_HOST: '127.0.0.1',
      RABBITMQ_DEFAULT_PORT: String(rabbit.amqpPort),
      RABBITMQ_DEFAULT_VHOST: rabbit.vhost,
      RABBITMQ_DEFAULT_USER: rabbit.user,
      RABBITMQ_DEFAULT_PASS: rabbit.password,
      DMR_AUDIT_WRITER: 'on',
      DMR_AUDIT_HEAD_EVERY_MS: '200',
    },
    { identify: injectIdentity },
  );
}, 60_000);

afterAll(async () => {
  await fixture?.stop();
  await rabbit?.cleanup();
});

async function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (t) => out.push(t), err: (t) => err.push(t) }, { env: {} });
  return { code, out: out.join(''), err: err.join('') };
}

describe('dmr-control audit writer', () => {
  it('records an admin change in the signed audit log, which dmrctl verifies and proves', async () => {
    const response = await fixture.control.app.inject({
      method: 'POST',
      url: '/v1/agents',
      headers: { [IDENTITY_HEADER]: 'admin', 'content-type': 'application/json' },
      payload: JSON.stringify({ id: 'audited', name: 'Audited' }),
    });
    expect(response.statusCode).toBe(201);
    const database = `sqlite:${join(fixture.dir, 'control.db')}`;
    const store = await openAudit(database);
    let eventId = '';
    try {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const entries = await collect(store.entries());
        const entry = entries.find((e) => JSON.parse(e.body).event.subject === 'agent.create agent:audited');
        const head = (await store.heads()).at(-1);
        if (entry !== undefined && head !== undefined && head.size >= entry.seq) {
          expect(JSON.parse(entry.body).event).toMatchObject({
            kind: 'config.changed',
            actor: 'admin:urn:dmr:role:admin:tester',
            outcome: 'ok',
          });
          expect(entry.eventId).toMatch(/^change-log-[0-9]+$/);
          eventId = entry.eventId;
          break;
        }
        if (Date.now() > deadline) throw new Error('the change never reached a signed head');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await store.close();
    }
    const metrics = await fixture.control.metrics.registry.getSingleMetricAsString('dmr_audit_entries_total');
    expect(metrics).toMatch(/dmr_audit_entries_total [1-9]/);
    const verify = await cli(['audit', 'verify', '--database', database, '--ca-file', join(fixture.pki.caDir, 'ca.cert.pem')]);
    expect(verify.err).toBe('');
    expect(verify.code).toBe(0);
    const prove = await cli(['audit', 'prove', eventId, '--database', database]);
    expect(prove.code).toBe(0);
    expect(JSON.parse(prove.out)).toMatchObject({ eventId, verified: true });
  }, 60_000);
});
