// The admin API's body parsers and the CentOps view, as pure functions: strict JSON (no __proto__, bounded nesting),
// YAML 1.2 core schema only (no tags that run code, unique keys, bounded aliases), and the CentOps document's filter.
import { CentOpsConfiguration, compileValidator } from '@dmr/shared';
import { describe, expect, it } from 'vitest';
import { ApiError, centOpsDocument, parseJson, parseYamlDocument } from '../../src/api/index.js';
import type { AgentRecord } from '../../src/store/index.js';

function refusal(run: () => unknown): ApiError {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected an ApiError');
}

describe('parseJson', () => {
  it('parses JSON and refuses __proto__ members, bad JSON and deep nesting on the field body', () => {
    expect(parseJson('{"a":[1,{"b":"]"}]}')).toEqual({ a: [1, { b: ']' }] });
    for (const text of ['{"__proto__":{"x":1}}', '{"a":', `${'['.repeat(65)}${']'.repeat(65)}`]) {
      expect(refusal(() => parseJson(text))).toMatchObject({ code: 'DMR_CONTROL_INVALID_INPUT', field: 'body' });
    }
    // brackets inside strings do not count toward the depth
    expect(parseJson(JSON.stringify({ text: '['.repeat(100) }))).toEqual({ text: '['.repeat(100) });
  });
});

describe('parseYamlDocument', () => {
  it('reads YAML 1.2 core: yes stays a string, dates stay strings', () => {
    expect(parseYamlDocument('a: yes\nb: 2026-12-07\nc: [1, true, null]\n')).toEqual({ a: 'yes', b: '2026-12-07', c: [1, true, null] });
  });

  it.each([['!!js/function "function () {}"'], ['a: !custom 1\n'], ['a: 1\na: 2\n'], ['['], ['a: 1\n---\nb: 2\n']])(
    'refuses %j',
    (text) => {
      expect(refusal(() => parseYamlDocument(text))).toMatchObject({ code: 'DMR_CONTROL_INVALID_INPUT', field: 'body' });
    },
  );

  it('expands a few aliases', () => {
    expect(parseYamlDocument('a: &x [1]\nb: *x\n')).toEqual({ a: [1], b: [1] });
  });

  it('bounds alias expansion (a billion laughs is refused)', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 8; i++)
      lines.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(97 + i)}`)
          .join(',')}]`,
      );
    expect(refusal(() => parseYamlDocument(lines.join('\n')))).toMatchObject({ field: 'body' });
  });
});

describe('centOpsDocument', () => {
  const agent = (id: string, enabled: boolean, key: string | null, capabilities: string[] = []): AgentRecord => ({
    id,
    name: `Agent ${id}`,
    institution: 'RIA',
    contact: 'ops@ria.ee',
    labels: { tier: 'gold' },
    groups: ['g'],
    authenticationCertificate: key,
    capabilities,
    enabled,
    createdAt: '2026-12-07T10:00:00.000Z',
    updatedAt: '2026-12-07T11:00:00.000Z',
    revision: 3,
  });

  it('lists enabled agents with a key in the CentOps shape only; disabled ids in the dmr extension', () => {
    const document = centOpsDocument(
      [agent('a', true, 'PEM-A', ['jwe:RSA-OAEP-256']), agent('b', false, 'PEM-B'), agent('c', true, null)],
      42,
    );
    expect(document).toEqual({
      response: [
        {
          id: 'a',
          name: 'Agent a',
          authentication_certificate: 'PEM-A',
          created_at: '2026-12-07T10:00:00.000Z',
          updated_at: '2026-12-07T11:00:00.000Z',
          capabilities: ['jwe:RSA-OAEP-256'],
          // issue 19: the attributes the policy reads
          institution: 'RIA',
          groups: ['g'],
        },
      ],
      dmr: { configVersion: 42, disabled: ['b'] },
    });
  });

  it('leaves institution and groups out when the agent has none (issue 19), as seed 003 lists it', () => {
    const bare = { ...agent('a', true, 'PEM-A'), institution: '', groups: [] };
    expect(Object.keys((centOpsDocument([bare], 1).response as Array<Record<string, unknown>>)[0] ?? {}).sort()).toEqual([
      'authentication_certificate',
      'created_at',
      'id',
      'name',
      'updated_at',
    ]);
  });

  it('passes the schema dmr-server validates a registry document with (CentOpsConfiguration, dmr member included)', () => {
    const pem = '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n';
    const document = centOpsDocument([agent('a', true, pem), agent('b', false, pem)], 7);
    expect(compileValidator(CentOpsConfiguration)(document)).toMatchObject({ ok: true });
  });
});
