// dmr-control's environment: defaults, the CA key mode rule, TLS files, optional push, and every problem named at once.
// Files come from an in-memory file system (ControlConfigFiles), so nothing touches the disk.
import { DmrError, toDmrError } from '@dmr/shared';
import { TestCa, testKeyPair } from '@dmr/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ControlConfigFiles, DEFAULT_MAX_BODY_BYTES, loadControlConfig } from '../../src/service/index.js';

let files: Map<string, { bytes: string; mode: number }>;
const io: ControlConfigFiles = {
  readFile: (path) => {
    const file = files.get(path);
    if (!file) throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' });
    return Buffer.from(file.bytes);
  },
  modeOf: (path) => {
    const file = files.get(path);
    if (!file) throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' });
    return file.mode;
  },
};

const TLS = { DMR_TLS_CERT_FILE: '/tls/cert.pem', DMR_TLS_KEY_FILE: '/tls/key.pem' };

beforeAll(async () => {
  const ca = await TestCa.create();
  const pair = testKeyPair();
  files = new Map([
    ['/ca/ca.cert.pem', { bytes: ca.pem, mode: 0o644 }],
    ['/ca/ca.key.pem', { bytes: testKeyPair().privatePem, mode: 0o100600 }],
    ['/tls/cert.pem', { bytes: await ca.agentCertificate('control', pair.publicKey, { uris: [] }), mode: 0o644 }],
    ['/tls/key.pem', { bytes: pair.privatePem, mode: 0o600 }],
  ]);
});

function problemsOf(env: Record<string, string>): string {
  try {
    loadControlConfig(env, io);
  } catch (error) {
    const failure = toDmrError(error);
    expect(failure.code).toBe('DMR_CONFIG_INVALID');
    return failure.message;
  }
  throw new Error('expected DMR_CONFIG_INVALID');
}

describe('loadControlConfig', () => {
  it('has the documented defaults and takes the client CA from the CA directory', () => {
    const config = loadControlConfig({ ...TLS, DMR_CONTROL_CA_DIR: '/ca' }, io);
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 8443,
      ops: undefined,
      databaseUrl: 'sqlite:./dmr-control.db',
      caDir: '/ca',
      tls: { certFile: '/tls/cert.pem', keyFile: '/tls/key.pem', caFile: '/ca/ca.cert.pem' },
      broker: undefined,
      maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
      logLevel: 'info',
    });
    expect(DEFAULT_MAX_BODY_BYTES).toBe(10 * 1024 * 1024);
    expect(Object.isFrozen(config.tls)).toBe(true);
  });

  it('reads every variable', () => {
    const config = loadControlConfig(
      {
        ...TLS,
        DMR_TLS_CA_FILE: '/ca/ca.cert.pem',
        DMR_CONTROL_HOST: '127.0.0.1',
        DMR_CONTROL_PORT: '9443',
        DMR_OPS_PORT: '9090',
        DMR_CONTROL_DATABASE_URL: 'postgres://dmr@db.internal/control',
        DMR_MAX_BODY_BYTES: '2048',
        LOGGER_LOG_LEVELS: 'error,warn,debug',
        RABBITMQ_DEFAULT_HOST: 'rabbit-1,rabbit-2:5673',
        RABBITMQ_DEFAULT_PORT: '5672',
        RABBITMQ_DEFAULT_USER: 'dmr-control',
        RABBITMQ_DEFAULT_PASS: 'secret',
      },
      io,
    );
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 9443,
      ops: { host: '127.0.0.1', port: 9090 },
      maxBodyBytes: 2048,
      logLevel: 'debug',
    });
    expect(config.databaseUrl).toBe('postgres://dmr@db.internal/control');
    expect(config.broker?.endpoints).toEqual([
      { host: 'rabbit-1', port: 5672 },
      { host: 'rabbit-2', port: 5673 },
    ]);
    expect(config.broker?.applyPolicies).toBe(true);
  });

  it('refuses a CA key that group or others can read, naming DMR_CONTROL_CA_DIR and the mode', () => {
    files.set('/exposed/ca.key.pem', { bytes: 'x', mode: 0o100644 });
    files.set('/exposed/ca.cert.pem', files.get('/ca/ca.cert.pem') as { bytes: string; mode: number });
    expect(problemsOf({ ...TLS, DMR_CONTROL_CA_DIR: '/exposed' })).toMatch(
      /DMR_CONTROL_CA_DIR: the CA key "\/exposed\/ca.key.pem" is refused: mode 0644/,
    );
    expect(problemsOf({ ...TLS, DMR_CONTROL_CA_DIR: '/missing', DMR_TLS_CA_FILE: '/ca/ca.cert.pem' })).toMatch(
      /DMR_CONTROL_CA_DIR: cannot read/,
    );
  });

  it('names every bad variable at once', () => {
    const message = problemsOf({
      DMR_CONTROL_PORT: 'x',
      DMR_CONTROL_DATABASE_URL: 'mysql://a',
      DMR_MAX_BODY_BYTES: '10',
      LOGGER_LOG_LEVELS: 'loud',
      RABBITMQ_DEFAULT_HOST: 'rabbit',
    });
    for (const name of [
      'DMR_CONTROL_PORT',
      'DMR_CONTROL_DATABASE_URL',
      'DMR_MAX_BODY_BYTES',
      'LOGGER_LOG_LEVELS',
      'DMR_TLS_CERT_FILE',
      'DMR_TLS_KEY_FILE',
      'DMR_TLS_CA_FILE',
      'RABBITMQ_DEFAULT_USER',
    ]) {
      expect(message).toContain(name);
    }
  });

  it('checks the TLS files hold what they claim', () => {
    expect(problemsOf({ ...TLS, DMR_TLS_CA_FILE: '/tls/key.pem' })).toMatch(/DMR_TLS_CA_FILE: .* holds no PEM certificate/);
    expect(problemsOf({ ...TLS, DMR_TLS_KEY_FILE: '/ca/ca.key.pem', DMR_TLS_CA_FILE: '/ca/ca.cert.pem' })).toMatch(
      /DMR_TLS_KEY_FILE: .* is not the private key of DMR_TLS_CERT_FILE/,
    );
  });

  it('is a DmrError with the code the bin maps to exit 2', () => {
    expect(() => loadControlConfig({}, io)).toThrow(DmrError);
  });

  it('reads the audit writer settings and refuses the writer without a broker or a CA', () => {
    expect(loadControlConfig({ ...TLS, DMR_CONTROL_CA_DIR: '/ca' }, io).audit).toEqual({
      isWriterOn: false,
      headEveryEvents: 1000,
      headEveryMs: 10_000,
    });
    const on = loadControlConfig(
      {
        ...TLS,
        DMR_CONTROL_CA_DIR: '/ca',
        RABBITMQ_DEFAULT_HOST: 'rabbit',
        RABBITMQ_DEFAULT_PORT: '5672',
        RABBITMQ_DEFAULT_USER: 'dmr-control',
        RABBITMQ_DEFAULT_PASS: 'secret',
        DMR_AUDIT_WRITER: 'on',
        DMR_AUDIT_HEAD_EVERY_EVENTS: '64',
        DMR_AUDIT_HEAD_EVERY_MS: '500',
      },
      io,
    );
    expect(on.audit).toEqual({ isWriterOn: true, headEveryEvents: 64, headEveryMs: 500 });
    expect(problemsOf({ ...TLS, DMR_CONTROL_CA_DIR: '/ca', DMR_AUDIT_WRITER: 'on' })).toContain(
      'DMR_AUDIT_WRITER=on needs RABBITMQ_DEFAULT_HOST',
    );
    expect(problemsOf({ ...TLS, DMR_CONTROL_CA_DIR: '/ca', DMR_AUDIT_WRITER: 'yes', DMR_AUDIT_HEAD_EVERY_EVENTS: '0' })).toMatch(
      /DMR_AUDIT_WRITER must be on or off[\s\S]*DMR_AUDIT_HEAD_EVERY_EVENTS/,
    );
  });
});
