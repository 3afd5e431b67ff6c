import { amqpUrlFor, managementApiBaseFor, managementUrlFor, pickNewestServerDir, resolveNodeName } from '@dmr/testkit';
import { describe, expect, it } from 'vitest';

const INFO = { nodeName: 'n@localhost', amqpPort: 40001, managementPort: 40002, user: 'dmrtest', password: 'p@ss/word' };

describe('pickNewestServerDir', () => {
  it('picks the highest rabbitmq_server version, comparing numerically', () => {
    expect(pickNewestServerDir(['rabbitmq_server-3.9.29', 'rabbitmq_server-3.10.8', 'README', 'rabbitmq_server-x'])).toBe(
      'rabbitmq_server-3.10.8',
    );
  });

  it('returns undefined when nothing matches', () => {
    expect(pickNewestServerDir(['plugins'])).toBeUndefined();
  });
});

describe('resolveNodeName', () => {
  it('defaults to dmrtest-<suffix>@localhost and appends @localhost to bare names', () => {
    expect(resolveNodeName(undefined, 'abc123')).toBe('dmrtest-abc123@localhost');
    expect(resolveNodeName('dmrlocal-7', 'x')).toBe('dmrlocal-7@localhost');
    expect(resolveNodeName('a@host', 'x')).toBe('a@host');
  });

  it('rejects names Erlang would not accept', () => {
    expect(() => resolveNodeName('bad name', 'x')).toThrow(/Invalid/);
  });
});

describe('node URLs', () => {
  it('percent-encodes the vhost, so the default vhost is %2F', () => {
    expect(amqpUrlFor(INFO)).toBe('amqp://dmrtest:p%40ss%2Fword@127.0.0.1:40001/%2F');
    expect(amqpUrlFor(INFO, 'test/a b')).toBe('amqp://dmrtest:p%40ss%2Fword@127.0.0.1:40001/test%2Fa%20b');
  });

  it('puts credentials in the management URL but not in the API base', () => {
    expect(managementUrlFor(INFO)).toBe('http://dmrtest:p%40ss%2Fword@127.0.0.1:40002');
    expect(managementApiBaseFor(INFO)).toBe('http://127.0.0.1:40002/api');
  });
});
