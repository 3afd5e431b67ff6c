import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/output.js';
import { EXIT_USAGE, runCli } from '../../src/cli/program.js';
import {
  agentIdOf,
  agentIdsFromRegistry,
  convertDeadLetter,
  convertQueued,
  describeDeath,
  discoverAgentIds,
  formatSummary,
  formatSurvey,
  type MigrationReport,
  queuePair,
  ratePerSecond,
  templateProblem,
} from '../../src/migrate/index.js';

const JWE = 'aGVhZA.a2V5.aXY.Y2lwaGVy.dGFn';
const wire = {
  id: 'm-1',
  timestamp: '2024-01-15T10:30:00.000Z',
  senderId: 'agent-a',
  recipientId: 'agent-b',
  type: 'ChatMessage',
  payload: JWE,
};

function message(body: unknown, headers: Record<string, unknown> = {}, messageId?: string) {
  const content = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return { content, properties: { headers, ...(messageId ? { messageId } : {}) } };
}

describe('seed-003 queue names', () => {
  it('maps templates both ways and never takes DMR names, dotted names or bad ids for agent ids', () => {
    expect(queuePair('agent-b', { queue: '{id}', deadLetters: '{id}.dlq' })).toEqual({
      agentId: 'agent-b',
      source: 'agent-b',
      sourceDeadLetters: 'agent-b.dlq',
      inbox: 'dmr.agent.agent-b',
      deadLetters: 'dmr.agent.agent-b.dlq',
    });
    expect(agentIdOf('{id}', 'agent-b')).toBe('agent-b');
    expect(agentIdOf('{id}', 'dmr.agent.agent-b')).toBeUndefined();
    expect(agentIdOf('{id}', 'agent-b.dlq')).toBeUndefined();
    expect(agentIdOf('{id}.dlq', 'agent-b.dlq')).toBe('agent-b');
    expect(agentIdOf('q.{id}.in', 'q.x.in')).toBe('x');
    expect(agentIdOf('q.{id}.in', 'q..in')).toBeUndefined();
    expect(agentIdOf('{id}', '-bad')).toBeUndefined();
    const names = ['dmr.agent.a1', 'dmr.agent.a1.dlq', 'dmr.validation-failures', 'a1', 'a2.dlq', 'a1.dlq', 'amq.gen-x'];
    expect(discoverAgentIds(names, { queue: '{id}', deadLetters: '{id}.dlq' })).toEqual(['a1', 'a2']);
  });

  it('refuses templates without exactly one {id} and templates naming dmr.* queues', () => {
    expect(templateProblem('{id}')).toBeUndefined();
    expect(templateProblem('legacy.{id}.dead')).toBeUndefined();
    expect(templateProblem('static')).toMatch(/exactly once/);
    expect(templateProblem('{id}.{id}')).toMatch(/exactly once/);
    expect(templateProblem('dmr.agent.{id}')).toMatch(/DMR's own queues/);
  });
});

describe('seed-003 message conversion', () => {
  it('keeps the six wire fields and the id, drops receivedAt and unknown fields, and says where it came from', () => {
    const converted = convertQueued(message({ ...wire, receivedAt: '2024-01-15T10:30:01.000Z', hops: 3 }), 'agent-b', 'agent-b');
    expect(converted.destination).toBe('inbox');
    expect(converted.outcome).toBe('moved');
    expect(converted.messageId).toBe('m-1');
    expect(JSON.parse(converted.content.toString())).toEqual(wire);
    expect(Object.keys(JSON.parse(converted.content.toString()) as object)).toEqual([
      'id',
      'timestamp',
      'senderId',
      'recipientId',
      'type',
      'payload',
    ]);
    expect(converted.headers).toEqual({
      'x-dmr-sender': 'agent-a',
      'x-dmr-migrated-from': 'agent-b',
      'x-dmr-seed003-received-at': '2024-01-15T10:30:01.000Z',
    });
  });

  it('dead-letters what is no wire message for this agent with its bytes unchanged and the reason', () => {
    const cases: Array<[unknown, RegExp]> = [
      ['{"id": ', /body is not JSON/],
      [[1, 2], /not a JSON object/],
      [{ ...wire, payload: 'clear text' }, /not a wire message \(payload/],
      [{ ...wire, id: undefined }, /not a wire message \(id/],
      [{ ...wire, recipientId: 'agent-c' }, /recipientId names another agent than the queue's \(agent-b\)/],
    ];
    for (const [body, reason] of cases) {
      const source = message(body, {}, 'amqp-id');
      const converted = convertQueued(source, 'agent-b', 'agent-b');
      expect(converted.destination).toBe('dead-letters');
      expect(converted.outcome).toBe('invalid');
      expect(converted.content).toBe(source.content);
      expect(converted.messageId).toBe('amqp-id');
      expect(converted.headers['x-dmr-reason-code']).toBe('DMR_DELIVERY_INVALID_MESSAGE');
      expect(converted.headers['x-dmr-reason']).toMatch(reason);
      expect(converted.headers['x-dmr-reason']).toMatch(/^moved from seed-003 queue agent-b: /);
    }
  });

  it('moves dead letters to the DLQ with DMR_MIGRATE_DEAD_LETTER and seed 003 reason, or the DMR reason they carry', () => {
    const xDeath = [{ reason: 'expired', queue: 'agent-b', count: 2, exchange: '', time: { '!': 'timestamp', value: 1 } }];
    const dead = convertDeadLetter(message({ ...wire, receivedAt: 'x' }, { 'x-death': xDeath }), 'agent-b', 'agent-b.dlq');
    expect(dead.destination).toBe('dead-letters');
    expect(dead.outcome).toBe('dead-letter');
    expect(JSON.parse(dead.content.toString())).toEqual(wire);
    expect(dead.headers['x-dmr-reason-code']).toBe('DMR_MIGRATE_DEAD_LETTER');
    expect(dead.headers['x-dmr-reason']).toBe(
      'dead-lettered by seed 003 (x-death reason=expired queue=agent-b count=2); moved from seed-003 queue agent-b.dlq',
    );

    const tagged = convertDeadLetter(
      message(wire, { 'x-dmr-reason-code': 'DMR_CRYPTO_DECRYPT_FAILED', 'x-dmr-reason': 'cannot decrypt' }),
      'agent-b',
      'agent-b.dlq',
    );
    expect(tagged.headers['x-dmr-reason-code']).toBe('DMR_CRYPTO_DECRYPT_FAILED');
    expect(tagged.headers['x-dmr-reason']).toBe('cannot decrypt; moved from seed-003 queue agent-b.dlq');

    const foreignCode = convertDeadLetter(message(wire, { 'x-dmr-reason-code': 'DECRYPTION_FAILED' }), 'agent-b', 'agent-b.dlq');
    expect(foreignCode.headers['x-dmr-reason-code']).toBe('DMR_MIGRATE_DEAD_LETTER');

    const garbage = message('opaque bytes');
    const kept = convertDeadLetter(garbage, 'agent-b', 'agent-b.dlq');
    expect(kept.content).toBe(garbage.content);
    expect(kept.outcome).toBe('dead-letter');
    expect(kept.headers['x-dmr-reason']).toBe(
      'found in a seed-003 dead-letter queue without a recorded reason; moved from seed-003 queue agent-b.dlq (body kept as found: body is not JSON)',
    );
  });

  it('reads x-death defensively: it is foreign input', () => {
    expect(describeDeath(undefined)).toMatch(/without a recorded reason/);
    expect(describeDeath([null])).toMatch(/without a recorded reason/);
    expect(describeDeath([{ reason: { nested: true } }])).toBe('dead-lettered by seed 003 (x-death without details)');
    expect(describeDeath([{ reason: 'r'.repeat(500) }])).toHaveLength('dead-lettered by seed 003 (x-death reason='.length + 128 + 1);
  });
});

describe('migration report', () => {
  const survey = {
    agentId: 'a1',
    kind: 'queue' as const,
    source: 'a1',
    destination: 'dmr.agent.a1',
    exists: true,
    messages: 10,
    consumers: 0,
  };

  it('computes rates and prints the dry run with refusals and missing queues', () => {
    expect(ratePerSecond(1000, 500)).toBe(2000);
    expect(ratePerSecond(5, 0)).toBe(0);
    const text = formatSurvey([
      survey,
      { ...survey, source: 'a2', destination: 'dmr.agent.a2', consumers: 2, messages: 3 },
      { ...survey, kind: 'dead-letters', source: 'a1.dlq', exists: false, messages: 0 },
    ]);
    expect(text).toContain('dry run: nothing moved');
    expect(text).toMatch(/a2 +3 → dmr\.agent\.a2 {2}REFUSED: 2 consumer\(s\)/);
    expect(text).toMatch(/a1\.dlq +\(no such queue\)/);
    expect(text).toContain('total 13 message(s) waiting');
  });

  it('sums the results, names failures and says what was left', () => {
    const report: MigrationReport = {
      surveys: [survey, { ...survey, source: 'a1.dlq', exists: false }],
      results: [
        { ...survey, counts: { moved: 8, deadLetters: 0, invalid: 1 }, durationMs: 1000, leftInSource: 0 },
        {
          ...survey,
          source: 'a2',
          counts: { moved: 1, deadLetters: 0, invalid: 0 },
          durationMs: 500,
          leftInSource: 4,
          error: { code: 'DMR_ROUTE_PUBLISH_FAILED', message: 'nack' },
        },
      ],
      isDryRun: false,
      isAborted: false,
    };
    const text = formatSummary(report);
    expect(text).toMatch(/^move failed\n/);
    expect(text).toContain('a1 → dmr.agent.a1: 8 moved, 0 dead letters, 1 invalid (1.0 s, 9 msg/s; left 0)');
    expect(text).toContain('left 4)  FAILED DMR_ROUTE_PUBLISH_FAILED: nack');
    expect(text).toContain('no such queue (skipped): a1.dlq');
    expect(text).toContain('total 10 message(s): 9 to inboxes, 0 dead letters and 1 invalid to DLQs, 1.5 s, 7 msg/s');
  });
});

describe('dmrctl queues migrate: usage', () => {
  function capture(): CliIo & { text: () => string } {
    let all = '';
    return {
      out: (text) => {
        all += text;
      },
      err: (text) => {
        all += text;
      },
      text: () => all,
    };
  }
  const env = { RABBITMQ_DEFAULT_HOST: '127.0.0.1', RABBITMQ_DEFAULT_PORT: '1', RABBITMQ_DEFAULT_USER: 'u', RABBITMQ_DEFAULT_PASS: 'p' };

  it('answers 2 naming the problem before it connects anywhere', async () => {
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['--agent-ids', 'a1'], { ...env, RABBITMQ_DEFAULT_PORT: 'x' }, /DMR_CONFIG_INVALID: .*RABBITMQ_DEFAULT_PORT must be an integer/],
      [['--agent-ids', 'a1', '--rabbitmq-port', '99999'], env, /RABBITMQ_DEFAULT_PORT must be ≤ 65535/],
      [['--agent-ids', 'a1'], { ...env, RABBITMQ_AUTH_MECHANISM: 'EXTERNAL' }, /EXTERNAL needs RABBITMQ_TLS_CA_FILE/],
      [['--discover'], env, /RABBITMQ_DEFAULT_MANAGEMENT_UI_URI is required/],
      [['--agent-ids', 'a1', '--discover'], { ...env, RABBITMQ_DEFAULT_MANAGEMENT_UI_URI: 'http://x' }, /exactly one of/],
      [['--agent-ids', 'a b'], env, /not an agent id: a b/],
      [['--agent-ids', 'a1', '--window', '0'], env, /whole number ≥ 1/],
      [['--agent-ids', 'a1', '--source-dlq', 'dlq'], env, /exactly once/],
    ];
    for (const [args, environment, expected] of cases) {
      const io = capture();
      expect(await runCli(['queues', 'migrate', ...args], io, { env: environment }), args.join(' ')).toBe(EXIT_USAGE);
      expect(io.text()).toMatch(expected);
    }
  });
});

describe('agents from a CentOps registry document', () => {
  it('reads the ids of a valid document and refuses anything else with a registry code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmrctl-registry-'));
    try {
      const agent = (id: string) => ({ id, name: id, authentication_certificate: 'PEM', created_at: 'x', updated_at: 'x' });
      const good = join(dir, 'good.json');
      writeFileSync(good, JSON.stringify({ response: [agent('a1'), agent('a2'), agent('a1')] }));
      expect(await agentIdsFromRegistry(pathToFileURL(good).href)).toEqual(['a1', 'a2']);
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, JSON.stringify({ response: [agent('not ok')] }));
      await expect(agentIdsFromRegistry(pathToFileURL(bad).href)).rejects.toMatchObject({ code: 'DMR_REGISTRY_INVALID' });
      writeFileSync(bad, '{"response": ');
      await expect(agentIdsFromRegistry(pathToFileURL(bad).href)).rejects.toMatchObject({ code: 'DMR_REGISTRY_INVALID' });
      await expect(agentIdsFromRegistry(pathToFileURL(join(dir, 'none.json')).href)).rejects.toMatchObject({
        code: 'DMR_REGISTRY_FETCH_FAILED',
      });
      await expect(agentIdsFromRegistry('http://127.0.0.1:1/agents')).rejects.toMatchObject({
        code: 'DMR_REGISTRY_FETCH_FAILED',
        message: expect.stringContaining('file:// or https://'),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
