import { brokerUrl, loadServerConfig, parseBrokerHosts } from '@dmr/server';
import { describe, expect, it } from 'vitest';

describe('parseBrokerHosts (RABBITMQ_DEFAULT_HOST)', () => {
  it('takes one host, or a comma list of cluster nodes with optional ports', () => {
    expect(parseBrokerHosts('rabbitmq', 5672)).toEqual({ ok: true, endpoints: [{ host: 'rabbitmq', port: 5672 }] });
    expect(parseBrokerHosts(' rmq-0:5671, rmq-1 ,[::1]:5673 ', 5672)).toEqual({
      ok: true,
      endpoints: [
        { host: 'rmq-0', port: 5671 },
        { host: 'rmq-1', port: 5672 },
        { host: '::1', port: 5673 },
      ],
    });
  });

  it('names the bad entry', () => {
    expect(parseBrokerHosts('rmq-0,rmq 1', 5672)).toEqual({ ok: false, problem: expect.stringContaining('"rmq 1"') });
    expect(parseBrokerHosts('rmq-0:99999', 5672)).toMatchObject({ ok: false });
    expect(parseBrokerHosts(',', 5672)).toMatchObject({ ok: false });
  });
});

describe('broker config with a cluster', () => {
  const env = {
    CENTOPS_CONFIGURATION_URL: 'file:///tmp/agents.json',
    RABBITMQ_DEFAULT_HOST: 'rmq-0,rmq-1:5673',
    RABBITMQ_DEFAULT_PORT: '5672',
    RABBITMQ_DEFAULT_MANAGEMENT_UI_URI: 'http://rmq-0:15672, http://rmq-1:15672',
    RABBITMQ_DEFAULT_USER: 'dmr',
    RABBITMQ_DEFAULT_PASS: 'secret',
    DMR_ALLOW_PLAINTEXT: 'true',
  };

  it('keeps every node and every management API, the first one also as host/port and managementUri', () => {
    const { broker } = loadServerConfig(env);
    expect(broker.endpoints).toEqual([
      { host: 'rmq-0', port: 5672 },
      { host: 'rmq-1', port: 5673 },
    ]);
    expect([broker.host, broker.port, broker.managementUri]).toEqual(['rmq-0', 5672, 'http://rmq-0:15672']);
    expect(broker.managementUris).toEqual(['http://rmq-0:15672', 'http://rmq-1:15672']);
    expect(brokerUrl(broker, { host: 'rmq-1', port: 5673 })).toBe('amqp://dmr:secret@rmq-1:5673/%2F');
    expect(brokerUrl(broker, { host: '::1', port: 5672 })).toBe('amqp://dmr:secret@[::1]:5672/%2F');
  });

  it('refuses a bad host entry or management URL, naming the variable', () => {
    expect(() => loadServerConfig({ ...env, RABBITMQ_DEFAULT_HOST: 'rmq-0,rmq/1' })).toThrow(/RABBITMQ_DEFAULT_HOST entry "rmq\/1"/);
    expect(() => loadServerConfig({ ...env, RABBITMQ_DEFAULT_MANAGEMENT_UI_URI: 'http://ok:15672,ftp://no' })).toThrow(
      /RABBITMQ_DEFAULT_MANAGEMENT_UI_URI entry "ftp:\/\/no"/,
    );
  });

  it('paces redeliveries: 1 s doubling to 30 s by default', () => {
    expect(loadServerConfig(env).gateway).toMatchObject({ redeliveryDelayMs: 1000, redeliveryDelayMaxMs: 30_000 });
  });
});
