import { loadServerConfig } from '@dmr/server';
import { describe, expect, it } from 'vitest';

const env = {
  CENTOPS_CONFIGURATION_URL: 'file:///tmp/agents.json',
  RABBITMQ_DEFAULT_HOST: 'rabbitmq',
  RABBITMQ_DEFAULT_PORT: '5672',
  RABBITMQ_DEFAULT_MANAGEMENT_UI_URI: 'http://rabbitmq:15672',
  RABBITMQ_DEFAULT_USER: 'dmr',
  RABBITMQ_DEFAULT_PASS: 'secret',
  DMR_ALLOW_PLAINTEXT: 'true',
};

describe('dmr-server ops listener settings', () => {
  it('has no ops listener unless DMR_OPS_PORT is set, and binds loopback by default', () => {
    expect(loadServerConfig(env).ops).toBeUndefined();
    expect(loadServerConfig({ ...env, DMR_OPS_PORT: '9464' }).ops).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(loadServerConfig({ ...env, DMR_OPS_PORT: '9464', DMR_OPS_HOST: '0.0.0.0' }).ops).toEqual({ host: '0.0.0.0', port: 9464 });
  });

  it('refuses an ops port equal to PORT, a bad port and a host without a port, naming the variable', () => {
    expect(() => loadServerConfig({ ...env, PORT: '8443', DMR_OPS_PORT: '8443' })).toThrow(/DMR_OPS_PORT \(8443\) must differ from PORT/);
    expect(() => loadServerConfig({ ...env, DMR_OPS_PORT: '70000' })).toThrow(/DMR_OPS_PORT must be ≤ 65535/);
    expect(() => loadServerConfig({ ...env, DMR_OPS_HOST: '0.0.0.0' })).toThrow(/DMR_OPS_HOST is set but DMR_OPS_PORT is not/);
  });
});

describe('seed 003 variables DMR does not implement', () => {
  it('refuses WEB_SOCKET_MAX_DISCONNECTION_DURATION with the reason and where it is documented', () => {
    for (const value of ['120000', '0']) {
      const attempt = () => loadServerConfig({ ...env, WEB_SOCKET_MAX_DISCONNECTION_DURATION: value });
      expect(attempt).toThrow(/WEB_SOCKET_MAX_DISCONNECTION_DURATION is not supported/);
      expect(attempt).toThrow(/acked end to end and redelivered from RabbitMQ after a reconnect/);
      expect(attempt).toThrow(/packages\/server\/README\.md/);
    }
  });

  it('treats the variable set to nothing as unset (a compose file with an empty value)', () => {
    expect(() => loadServerConfig({ ...env, WEB_SOCKET_MAX_DISCONNECTION_DURATION: '' })).not.toThrow();
  });
});
