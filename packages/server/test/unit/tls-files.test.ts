// Issue 15, finding 18: a configured TLS/CRL file that is missing, unreadable or holds the wrong thing is a
// configuration error naming the variable and the file, found at start (not a stack trace from the TLS set-up).
import { loadServerConfig } from '@dmr/server';
import { DmrError } from '@dmr/shared';
import { beforeAll, describe, expect, it } from 'vitest';
import { fakeFiles, type PemPair, selfSigned } from '../helpers/pem-files.js';

const base = {
  CENTOPS_CONFIGURATION_URL: 'file:///tmp/agents.json',
  RABBITMQ_DEFAULT_HOST: '127.0.0.1',
  RABBITMQ_DEFAULT_PORT: '5672',
  RABBITMQ_DEFAULT_MANAGEMENT_UI_URI: 'http://127.0.0.1:15672',
  RABBITMQ_DEFAULT_USER: 'dmr',
  RABBITMQ_DEFAULT_PASS: 'secret',
  DMR_TLS_CERT_FILE: '/tls/server.pem',
  DMR_TLS_KEY_FILE: '/tls/server.key',
  DMR_TLS_CA_FILE: '/tls/ca.pem',
  DMR_TLS_CRL_FILE: '/tls/crl.pem',
};
const CRL_PEM = '-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n';

function refusal(env: Record<string, string>, files: ReturnType<typeof fakeFiles>): string {
  try {
    loadServerConfig(env, files);
  } catch (error) {
    expect(error).toBeInstanceOf(DmrError);
    expect((error as DmrError).code).toBe('DMR_CONFIG_INVALID');
    return (error as DmrError).message;
  }
  throw new Error('expected DMR_CONFIG_INVALID');
}

describe('TLS and CRL files at start', () => {
  let server: PemPair;
  let other: PemPair;
  beforeAll(async () => {
    [server, other] = await Promise.all([selfSigned('server'), selfSigned('other')]);
  });
  const good = () => ({
    '/tls/server.pem': server.cert,
    '/tls/server.key': server.key,
    '/tls/ca.pem': server.cert,
    '/tls/crl.pem': CRL_PEM,
  });

  it('accepts readable files that hold what their variables promise', () => {
    expect(loadServerConfig(base, fakeFiles(good())).tls).toMatchObject({ crlFile: '/tls/crl.pem', crlWarnBeforeMs: 86_400_000 });
  });

  it('names each missing file with its variable', () => {
    const { '/tls/crl.pem': _crl, '/tls/ca.pem': _ca, ...rest } = good();
    const message = refusal(base, fakeFiles(rest));
    expect(message).toContain('DMR_TLS_CRL_FILE: cannot read "/tls/crl.pem" (no such file)');
    expect(message).toContain('DMR_TLS_CA_FILE: cannot read "/tls/ca.pem" (no such file)');
    expect(message).not.toContain('DMR_TLS_CERT_FILE');
  });

  it('names a file that holds no certificate, no key or no CRL', () => {
    const message = refusal(base, fakeFiles({ ...good(), '/tls/server.pem': 'hello', '/tls/crl.pem': 'hello', '/tls/server.key': 'x' }));
    expect(message).toContain('DMR_TLS_CERT_FILE: "/tls/server.pem" holds no valid PEM certificate');
    expect(message).toContain('DMR_TLS_KEY_FILE: "/tls/server.key" holds no valid private key');
    expect(message).toContain('DMR_TLS_CRL_FILE: "/tls/crl.pem" holds no CRL');
  });

  it('accepts a CA bundle concatenated without newlines, and names a bundle with a broken certificate', () => {
    const glued = `${server.cert.trim()}${other.cert.trim()}`;
    expect(loadServerConfig(base, fakeFiles({ ...good(), '/tls/ca.pem': glued })).tls?.caFile).toBe('/tls/ca.pem');
    const broken = `${server.cert}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`;
    const message = refusal(base, fakeFiles({ ...good(), '/tls/ca.pem': broken }));
    expect(message).toContain('DMR_TLS_CA_FILE: certificate 2 of 2 in "/tls/ca.pem" is not a valid PEM certificate');
    expect(refusal(base, fakeFiles({ ...good(), '/tls/ca.pem': 'hello' }))).toContain(
      'DMR_TLS_CA_FILE: "/tls/ca.pem" holds no PEM certificate',
    );
  });

  it('refuses a key that does not belong to the certificate', () => {
    const message = refusal(base, fakeFiles({ ...good(), '/tls/server.key': other.key }));
    expect(message).toContain('DMR_TLS_KEY_FILE: "/tls/server.key" is not the private key of DMR_TLS_CERT_FILE');
  });

  it('checks the broker TLS files too', () => {
    const env = {
      ...base,
      RABBITMQ_TLS_CA_FILE: '/amqp/ca.pem',
      RABBITMQ_TLS_CERT_FILE: '/amqp/c.pem',
      RABBITMQ_TLS_KEY_FILE: '/amqp/c.key',
    };
    const message = refusal(env, fakeFiles(good()));
    for (const name of ['RABBITMQ_TLS_CA_FILE', 'RABBITMQ_TLS_CERT_FILE', 'RABBITMQ_TLS_KEY_FILE'])
      expect(message).toContain(`${name}: cannot read`);
  });
});
