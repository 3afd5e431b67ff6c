// Issue 18: the server's certificate lifecycle variables (renewal with dmr-control, reload of changed files).
import { loadServerConfig } from '@dmr/server';
import { beforeAll, describe, expect, it } from 'vitest';
import { fakeFiles, type PemPair, selfSigned } from '../helpers/pem-files.js';

const base = {
  CENTOPS_CONFIGURATION_URL: 'file:///tmp/agents.json',
  RABBITMQ_DEFAULT_HOST: '127.0.0.1',
  RABBITMQ_DEFAULT_PORT: '5672',
  RABBITMQ_DEFAULT_MANAGEMENT_UI_URI: 'http://127.0.0.1:15672',
  RABBITMQ_DEFAULT_USER: 'dmr',
  RABBITMQ_DEFAULT_PASS: 'secret',
  DMR_TLS_CERT_FILE: '/s.pem',
  DMR_TLS_KEY_FILE: '/s.key',
  DMR_TLS_CA_FILE: '/ca.pem',
};

describe('server certificate lifecycle configuration', () => {
  let server: PemPair;
  let ca: PemPair;
  beforeAll(async () => {
    [server, ca] = await Promise.all([selfSigned('server'), selfSigned('ca')]);
  });
  const files = () => fakeFiles({ '/s.pem': server.cert, '/s.key': server.key, '/ca.pem': ca.cert, '/control-ca.pem': ca.cert });

  it('defaults: files re-read every 10 s, no renewal, renewal point 0.6667', () => {
    expect(loadServerConfig(base, files()).certificates).toEqual({
      control: undefined,
      renewAtFraction: 0.6667,
      reloadIntervalMs: 10_000,
      caBundleRefreshIntervalMs: 900_000,
      renewRabbitmqCertificate: false,
    });
  });

  it('renews the relay user’s RabbitMQ certificate only when asked, and only with dmr-control, that certificate and TLS', () => {
    const relay = { RABBITMQ_TLS_CA_FILE: '/ca.pem', RABBITMQ_TLS_CERT_FILE: '/s.pem', RABBITMQ_TLS_KEY_FILE: '/s.key' };
    const env = { ...base, ...relay, DMR_CONTROL_URL: 'https://control:8094', DMR_CONTROL_CA_FILE: '/control-ca.pem' };
    expect(loadServerConfig({ ...env, DMR_CONTROL_RENEW_RABBITMQ_CERT: 'true' }, files()).certificates.renewRabbitmqCertificate).toBe(true);
    expect(() => loadServerConfig({ ...base, DMR_CONTROL_RENEW_RABBITMQ_CERT: 'true' }, files())).toThrow(
      /DMR_CONTROL_RENEW_RABBITMQ_CERT=true needs DMR_CONTROL_URL, RABBITMQ_TLS_CERT_FILE/,
    );
  });

  it('renews with dmr-control at the configured fraction; the control CA file is checked at start', () => {
    const env = {
      ...base,
      DMR_CONTROL_URL: 'https://control:8094',
      DMR_CONTROL_CA_FILE: '/control-ca.pem',
      DMR_CERT_RENEW_AT_FRACTION: '0.8',
    };
    expect(loadServerConfig(env, files()).certificates).toEqual({
      control: { url: 'https://control:8094', caFile: '/control-ca.pem' },
      renewAtFraction: 0.8,
      reloadIntervalMs: 10_000,
      caBundleRefreshIntervalMs: 900_000,
      renewRabbitmqCertificate: false,
    });
    expect(() => loadServerConfig({ ...env, DMR_CONTROL_CA_FILE: '/missing.pem' }, files())).toThrow(
      /DMR_CONTROL_CA_FILE: cannot read "\/missing.pem" \(no such file\)/,
    );
  });

  it('refuses a bad fraction, a bad interval and a plain-http control URL, naming each variable', () => {
    const env = { ...base, DMR_CERT_RENEW_AT_FRACTION: '0.05', DMR_CERT_RELOAD_INTERVAL_MS: 'soon', DMR_CONTROL_URL: 'http://control' };
    let message = '';
    try {
      loadServerConfig(env, files());
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/DMR_CERT_RENEW_AT_FRACTION must be a decimal from 0.1 to 0.95/);
    expect(message).toMatch(/DMR_CERT_RELOAD_INTERVAL_MS must be an integer/);
    expect(message).toMatch(/DMR_CONTROL_URL must use https:/);
  });
});
