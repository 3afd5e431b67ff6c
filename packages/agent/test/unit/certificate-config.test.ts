// Issue 18: the agent's certificate variables: where its client certificate lives, how it is kept current, and what
// enrollment needs before the rest of the configuration can be read.
import { generateKeyPairSync } from 'node:crypto';
import type { Env } from '@dmr/shared';
import { TestCa } from '@dmr/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAgentConfig, loadEnrollmentSettings } from '../../src/config/index.js';

const AGENT_ID = 'd3b07384-d9a0-4c3f-a4e2-123456789abc';
let caPem = '';
let keyPem = '';

const files = {
  readFile: (path: string): string => {
    if (path === '/etc/dmr/ca.pem' || path === '/etc/dmr/control-ca.pem') return caPem;
    if (path === '/var/lib/dmr/agent.key.pem') return keyPem;
    if (path === '/var/lib/dmr/agent.cert.pem') return 'PEM of the certificate';
    throw new Error(`unexpected read of ${path}`);
  },
};

function agentEnv(extra: Env = {}): Env {
  return {
    AGENT_ID,
    AGENT_PRIVATE_KEY_FILE: '/var/lib/dmr/agent.key.pem',
    DMR_TLS_CERT_FILE: '/var/lib/dmr/agent.cert.pem',
    DMR_TLS_CA_FILE: '/etc/dmr/ca.pem',
    DMR_SERVER_WEBSOCKET_URL: 'wss://dmr.example.ee',
    OUTGOING_MESSAGE_ENDPOINT: 'http://chatbot:8080/dmr',
    ...extra,
  };
}

describe('agent certificate configuration', () => {
  beforeAll(async () => {
    caPem = (await TestCa.create()).pem;
    keyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  });

  it('uses AGENT_PRIVATE_KEY_FILE as the TLS key when DMR_TLS_KEY_FILE is unset (one key per agent)', () => {
    const config = loadAgentConfig(agentEnv(), files);
    expect(config.link.tls?.key).toBe(keyPem);
    expect(config.privateKeyFile).toBe('/var/lib/dmr/agent.key.pem');
    expect(config.certificates).toEqual({
      paths: { certFile: '/var/lib/dmr/agent.cert.pem', keyFile: '/var/lib/dmr/agent.key.pem', caFile: '/etc/dmr/ca.pem' },
      lifecycle: { control: undefined, renewAtFraction: 0.6667, reloadIntervalMs: 10_000, caBundleRefreshIntervalMs: 900_000 },
    });
  });

  it('renews through dmr-control with DMR_CONTROL_URL, at DMR_CERT_RENEW_AT_FRACTION', () => {
    const config = loadAgentConfig(
      agentEnv({
        DMR_CONTROL_URL: 'https://control.dmr.example.ee',
        DMR_CONTROL_CA_FILE: '/etc/dmr/control-ca.pem',
        DMR_CERT_RENEW_AT_FRACTION: '0.75',
      }),
      files,
    );
    expect(config.certificates?.lifecycle).toEqual({
      control: { url: 'https://control.dmr.example.ee', caFile: '/etc/dmr/control-ca.pem' },
      renewAtFraction: 0.75,
      reloadIntervalMs: 10_000,
      caBundleRefreshIntervalMs: 900_000,
    });
  });

  it('refuses a fraction outside 0.1–0.95 and a control URL without a certificate to renew, naming the variables', () => {
    expect(() => loadAgentConfig(agentEnv({ DMR_CERT_RENEW_AT_FRACTION: '0.99' }), files)).toThrow(
      /DMR_CERT_RENEW_AT_FRACTION must be a decimal from 0.1 to 0.95/,
    );
    const plaintext = agentEnv({ DMR_TLS_CERT_FILE: '', DMR_ALLOW_PLAINTEXT: 'true', DMR_CONTROL_URL: 'https://control' });
    expect(() => loadAgentConfig(plaintext, files)).toThrow(/DMR_CONTROL_URL renews the client certificate: set DMR_TLS_CERT_FILE/);
  });

  it('has no certificates slice without a client certificate (plaintext behind an ingress)', () => {
    const config = loadAgentConfig(
      agentEnv({ DMR_TLS_CERT_FILE: '', DMR_TLS_CA_FILE: '', DMR_PEER_CA_FILE: '/etc/dmr/ca.pem', DMR_ALLOW_PLAINTEXT: 'true' }),
      files,
    );
    expect(config.certificates).toBeUndefined();
  });
});

describe('enrollment settings', () => {
  beforeAll(async () => {
    caPem ||= (await TestCa.create()).pem;
  });

  it('are undefined without DMR_CONTROL_URL, with an inline key the agent cannot write, or with a TLS key of its own (renewal only)', () => {
    expect(
      loadEnrollmentSettings(agentEnv({ DMR_CONTROL_URL: 'https://c', DMR_TLS_KEY_FILE: '/other.key' }), files.readFile),
    ).toBeUndefined();
    expect(loadEnrollmentSettings(agentEnv(), files.readFile)).toBeUndefined();
    expect(
      loadEnrollmentSettings(
        agentEnv({ DMR_CONTROL_URL: 'https://c', AGENT_PRIVATE_KEY_FILE: '', AGENT_PRIVATE_KEY: 'x' }),
        files.readFile,
      ),
    ).toBeUndefined();
  });

  it('read the token, the key type (default ec-p256), the files and the CA of dmr-control', () => {
    const settings = loadEnrollmentSettings(
      agentEnv({ DMR_CONTROL_URL: 'https://c:8094/', DMR_CONTROL_CA_FILE: '/etc/dmr/control-ca.pem', DMR_ENROLLMENT_TOKEN: 'dmr_et_x' }),
      files.readFile,
    );
    expect(settings?.plan).toEqual({
      agentId: AGENT_ID,
      token: 'dmr_et_x',
      control: { url: 'https://c:8094', ca: caPem },
      paths: { certFile: '/var/lib/dmr/agent.cert.pem', keyFile: '/var/lib/dmr/agent.key.pem', caFile: '/etc/dmr/ca.pem' },
      keyType: 'ec-p256',
    });
    expect(settings?.logLevel).toBe('info');
  });

  it.each([
    [{ DMR_ENROLLMENT_TOKEN: 't' }, /DMR_ENROLLMENT_TOKEN is set but DMR_CONTROL_URL is not/],
    [
      { DMR_CONTROL_URL: 'https://c', AGENT_PRIVATE_KEY_FILE: '', AGENT_PRIVATE_KEY: 'x', DMR_ENROLLMENT_TOKEN: 't' },
      /DMR_ENROLLMENT_TOKEN needs the key in AGENT_PRIVATE_KEY_FILE/,
    ],
    [{ DMR_CONTROL_URL: 'https://c', AGENT_PRIVATE_KEY_FILE: '' }, /AGENT_PRIVATE_KEY_FILE is required/],
    [{ DMR_CONTROL_URL: 'https://c', DMR_TLS_CERT_FILE: '' }, /DMR_TLS_CERT_FILE is required/],
    [
      { DMR_CONTROL_URL: 'https://c', DMR_TLS_KEY_FILE: '/other.key', DMR_ENROLLMENT_TOKEN: 't' },
      /DMR_TLS_KEY_FILE must be AGENT_PRIVATE_KEY_FILE/,
    ],
    [{ DMR_CONTROL_URL: 'https://c', DMR_ENROLLMENT_KEY_TYPE: 'rsa-1024' }, /DMR_ENROLLMENT_KEY_TYPE must be ec-p256 or rsa-3072/],
    [{ DMR_CONTROL_URL: 'https://c', AGENT_ID: 'not an id' }, /AGENT_ID must be 1-128 letters/],
    [{ DMR_CONTROL_URL: 'https://c', DMR_CONTROL_CA_FILE: '/missing.pem' }, /DMR_CONTROL_CA_FILE: cannot read "\/missing.pem"/],
    [{ DMR_CONTROL_URL: 'http://c' }, /DMR_CONTROL_URL must use https:/],
  ])('refuse %o', (extra, message) => {
    expect(() => loadEnrollmentSettings(agentEnv(extra), files.readFile)).toThrow(message);
  });

  it('accept rsa-3072 and DMR_TLS_KEY_FILE naming the same file', () => {
    const settings = loadEnrollmentSettings(
      agentEnv({ DMR_CONTROL_URL: 'https://c', DMR_ENROLLMENT_KEY_TYPE: 'RSA-3072', DMR_TLS_KEY_FILE: '/var/lib/dmr/agent.key.pem' }),
      files.readFile,
    );
    expect(settings?.plan.keyType).toBe('rsa-3072');
  });
});
