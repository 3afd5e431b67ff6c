// Issue 18: the server's control-plane settings. Push is on by default (every server has RabbitMQ), the report needs
// https and a client certificate, the CRL comes from a file or a URL but never both, and an instance id names the server.
import { loadServerConfig } from '@dmr/server';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultInstanceId } from '../../src/config/index.js';
import { fakeFiles, type PemPair, selfSigned } from '../helpers/pem-files.js';

const minimal = {
  CENTOPS_CONFIGURATION_URL: 'file:///tmp/agents.json',
  RABBITMQ_DEFAULT_HOST: '127.0.0.1',
  RABBITMQ_DEFAULT_PORT: '5672',
  RABBITMQ_DEFAULT_MANAGEMENT_UI_URI: 'http://127.0.0.1:15672',
  RABBITMQ_DEFAULT_USER: 'dmr',
  RABBITMQ_DEFAULT_PASS: 'secret',
  DMR_ALLOW_PLAINTEXT: 'true',
};
const host = { hostname: 'dmr-server-0.dmr.svc', pid: 1 };

describe('control config', () => {
  let server: PemPair;
  let client: PemPair;
  let ca: PemPair;
  beforeAll(async () => {
    [server, client, ca] = await Promise.all([selfSigned('server'), selfSigned('client'), selfSigned('ca')]);
  });
  const files = () =>
    fakeFiles({
      '/s.pem': server.cert,
      '/s.key': server.key,
      '/ca.pem': ca.cert,
      '/c.pem': client.cert,
      '/c.key': client.key,
      '/cp.pem': ca.cert,
    });
  const tls = { DMR_ALLOW_PLAINTEXT: 'false', DMR_TLS_CERT_FILE: '/s.pem', DMR_TLS_KEY_FILE: '/s.key', DMR_TLS_CA_FILE: '/ca.pem' };

  it('pushes by default, reports nowhere, and names the instance after host and pid', () => {
    const { control, tls: noTls } = loadServerConfig(minimal, fakeFiles({}), host);
    expect(control).toEqual({
      isPushEnabled: true,
      instanceId: 'dmr-server-0.dmr.svc-1',
      url: undefined,
      caFile: undefined,
      clientCertFile: undefined,
      clientKeyFile: undefined,
      timeoutMs: 10_000,
    });
    expect(noTls).toBeUndefined();
    expect(loadServerConfig({ ...minimal, DMR_CONTROL_PUSH: 'false' }, fakeFiles({}), host).control.isPushEnabled).toBe(false);
  });

  it('reduces a host name to the instance-id alphabet and refuses a bad DMR_INSTANCE_ID', () => {
    expect(defaultInstanceId({ hostname: '--weird host/name', pid: 42 })).toBe('weird-host-name-42');
    expect(defaultInstanceId({ hostname: '', pid: 7 })).toBe('dmr-server-7');
    expect(() => loadServerConfig({ ...minimal, DMR_INSTANCE_ID: '../etc' }, fakeFiles({}), host)).toThrow(/DMR_INSTANCE_ID must be/);
    expect(loadServerConfig({ ...minimal, DMR_INSTANCE_ID: 'relay-a.1' }, fakeFiles({}), host).control.instanceId).toBe('relay-a.1');
  });

  it('reports with the server certificate by default, or its own pair, trusting DMR_CONTROL_CA_FILE or the registry CA', () => {
    const byDefault = loadServerConfig({ ...minimal, ...tls, DMR_CONTROL_URL: 'https://control.example/' }, files(), host).control;
    expect(byDefault).toMatchObject({
      url: 'https://control.example',
      clientCertFile: '/s.pem',
      clientKeyFile: '/s.key',
      caFile: undefined,
    });
    const own = loadServerConfig(
      {
        ...minimal,
        DMR_CONTROL_URL: 'https://control.example',
        DMR_CONTROL_CLIENT_CERT_FILE: '/c.pem',
        DMR_CONTROL_CLIENT_KEY_FILE: '/c.key',
        CENTOPS_CONFIGURATION_CA_FILE: '/ca.pem',
      },
      files(),
      host,
    ).control;
    expect(own).toMatchObject({ clientCertFile: '/c.pem', clientKeyFile: '/c.key', caFile: '/ca.pem' });
    const explicit = loadServerConfig(
      { ...minimal, DMR_CONTROL_CA_FILE: '/cp.pem', CENTOPS_CONFIGURATION_CA_FILE: '/ca.pem' },
      files(),
      host,
    );
    expect(explicit.control.caFile).toBe('/cp.pem');
  });

  it('refuses a report without https, without a client certificate, with half a pair or with files that do not match', () => {
    const refusal = (env: Record<string, string>) => {
      try {
        loadServerConfig({ ...minimal, ...env }, files(), host);
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(refusal({ DMR_CONTROL_URL: 'http://control.example' })).toContain('DMR_CONTROL_URL must use https:');
    expect(refusal({ DMR_CONTROL_URL: 'https://control.example' })).toContain('DMR_CONTROL_URL needs a client certificate');
    expect(refusal({ DMR_CONTROL_CLIENT_CERT_FILE: '/c.pem' })).toContain('must be set together');
    expect(refusal({ DMR_CONTROL_CLIENT_CERT_FILE: '/c.pem', DMR_CONTROL_CLIENT_KEY_FILE: '/s.key' })).toContain(
      'DMR_CONTROL_CLIENT_KEY_FILE: "/s.key" is not the private key of DMR_CONTROL_CLIENT_CERT_FILE',
    );
    expect(refusal({ DMR_CONTROL_CA_FILE: '/missing.pem' })).toContain('DMR_CONTROL_CA_FILE: cannot read "/missing.pem"');
  });

  it('takes the CRL from a file or a URL, never both, and the URL only with mutual TLS', () => {
    const url = loadServerConfig({ ...minimal, ...tls, DMR_TLS_CRL_URL: 'https://control.example/v1/crl' }, files(), host).tls;
    expect(url).toMatchObject({ crlUrl: 'https://control.example/v1/crl', crlFile: undefined, crlFetchIntervalMs: 60_000 });
    expect(() =>
      loadServerConfig({ ...minimal, ...tls, DMR_TLS_CRL_URL: 'https://c/v1/crl', DMR_TLS_CRL_FILE: '/ca.pem' }, files(), host),
    ).toThrow(/DMR_TLS_CRL_FILE and DMR_TLS_CRL_URL are alternatives/);
    expect(() => loadServerConfig({ ...minimal, DMR_TLS_CRL_URL: 'https://c/v1/crl' }, files(), host)).toThrow(/DMR_TLS_CRL_URL needs/);
    expect(() => loadServerConfig({ ...minimal, ...tls, DMR_TLS_CRL_URL: 'ftp://c/crl' }, files(), host)).toThrow(
      /DMR_TLS_CRL_URL must use/,
    );
    expect(() =>
      loadServerConfig({ ...minimal, ...tls, DMR_TLS_CRL_URL: 'https://c/v1/crl', DMR_TLS_CRL_FETCH_INTERVAL_MS: '10' }, files(), host),
    ).toThrow(/DMR_TLS_CRL_FETCH_INTERVAL_MS must be ≥ 1000/);
  });
});
