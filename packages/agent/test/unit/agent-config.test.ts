import { generateKeyPairSync } from 'node:crypto';
import { DmrError, type Env } from '@dmr/shared';
import { TestCa } from '@dmr/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../src/config/index.js';
import { generateKeys, type TestKeys } from '../helpers/keys.js';

const PEER_CA_FILE = '/etc/dmr/peer-ca.pem';
let peerCaPem = '';

/** File reads that serve the peer CA and hand every other path to `readFile`. */
function withPeerCa(readFile: (path: string) => string): { readFile: (path: string) => string } {
  return { readFile: (path) => (path === PEER_CA_FILE ? peerCaPem : readFile(path)) };
}

const noFiles = withPeerCa((path) => {
  throw new Error(`unexpected read of ${path}`);
});

function configError(env: Env, sources = noFiles): DmrError {
  try {
    loadAgentConfig(env, sources);
  } catch (error) {
    if (error instanceof DmrError) return error;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('loadAgentConfig', () => {
  let rsa: TestKeys;
  let ec: TestKeys;
  let minimal: Env;

  beforeAll(async () => {
    rsa = generateKeys('rsa');
    ec = generateKeys('ec');
    peerCaPem = (await TestCa.create()).pem;
    minimal = {
      DMR_PEER_CA_FILE: PEER_CA_FILE,
      AGENT_ID: 'd3b07384-d9a0-4c3f-a4e2-123456789abc',
      AGENT_PRIVATE_KEY: rsa.privatePem,
      DMR_SERVER_WEBSOCKET_URL: 'wss://dmr.example.ee',
      OUTGOING_MESSAGE_ENDPOINT: 'http://chatbot:8080/dmr',
      DMR_ALLOW_PLAINTEXT: 'true',
    };
  });

  it('is secure by default: without TLS material or with a plain URL it refuses to start', () => {
    const { DMR_ALLOW_PLAINTEXT: _allow, ...secure } = minimal;
    expect(() => loadAgentConfig(secure, noFiles)).toThrow(/TLS is not configured/);
    const files = withPeerCa((path: string) => (path === '/ca.pem' ? peerCaPem : `PEM of ${path}`));
    const withTls = { ...secure, DMR_TLS_CA_FILE: '/ca.pem', DMR_TLS_CERT_FILE: '/agent.pem', DMR_TLS_KEY_FILE: '/agent.key' };
    expect(loadAgentConfig(withTls, files).link.tls).toEqual({
      ca: `${peerCaPem.trim()}\n`,
      cert: 'PEM of /agent.pem',
      key: 'PEM of /agent.key',
    });
    expect(() => loadAgentConfig({ ...withTls, DMR_SERVER_WEBSOCKET_URL: 'http://dmr.example.ee' }, files)).toThrow(/https\/wss/);
  });

  describe('DMR_TLS_CA_FILE as a bundle (CA change-over)', () => {
    const tlsEnv = () => ({ ...minimal, DMR_TLS_CA_FILE: '/ca.pem', DMR_TLS_CERT_FILE: '/agent.pem', DMR_TLS_KEY_FILE: '/agent.key' });

    it('keeps every CA of a bundle concatenated without newlines, one newline-ended block each', async () => {
      const other = (await TestCa.create()).pem;
      const glued = `${peerCaPem.trim()}${other.trim()}`;
      const files = withPeerCa((path) => (path === '/ca.pem' ? glued : `PEM of ${path}`));
      const ca = loadAgentConfig(tlsEnv(), files).link.tls?.ca ?? '';
      expect(ca).toBe(`${peerCaPem.trim()}\n${other.trim()}\n`);
    });

    it('refuses a file without a certificate, or with one that does not parse, naming the variable', () => {
      const empty = withPeerCa((path) => (path === '/ca.pem' ? 'no pem here' : `PEM of ${path}`));
      expect(configError(tlsEnv(), empty).message).toContain('DMR_TLS_CA_FILE: "/ca.pem" holds no PEM certificate');
      const broken = `${peerCaPem}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`;
      const files = withPeerCa((path) => (path === '/ca.pem' ? broken : `PEM of ${path}`));
      expect(configError(tlsEnv(), files).message).toContain(
        'DMR_TLS_CA_FILE: certificate 2 of 2 in "/ca.pem" is not a valid PEM certificate',
      );
    });
  });

  it('applies the documented defaults', () => {
    const config = loadAgentConfig(minimal, noFiles);

    expect(config).toMatchObject({
      agentId: 'd3b07384-d9a0-4c3f-a4e2-123456789abc',
      environment: 'development',
      logLevel: 'info',
      shutdownTimeoutMs: 10_000,
      ephemeralKeyReuseMs: 1000,
      http: { host: '0.0.0.0', port: 5001, maxMessageBytes: 262_144, maxInFlightSends: 32, maxEventLoopDelayMs: 50 },
      link: { serverUrls: ['wss://dmr.example.ee'], reconnectDelayMs: 1000, reconnectDelayMaxMs: 5000, ackTimeoutMs: 2000 },
      delivery: {
        endpointUrl: 'http://chatbot:8080/dmr',
        attemptTimeoutMs: 5000,
        attempts: 3,
        dedupWindowSize: 100_000,
        allowUnboundMetadata: false,
      },
    });
    expect(config.privateKey.kind).toBe('rsa');
  });

  it('reads every variable it documents', () => {
    const config = loadAgentConfig(
      {
        ...minimal,
        PORT: '7000',
        HOST: '127.0.0.1',
        ENVIRONMENT: 'production',
        LOGGER_COLORS: 'false',
        LOGGER_LOG_LEVELS: 'error,warn,log,debug',
        WEBSOCKET_RECONNECTION_DELAY: '200',
        WEBSOCKET_RECONNECTION_DELAY_MAX: '900',
        MESSAGE_DELIVERY_TIMEOUT_MS: '1500',
        AGENT_ALLOW_UNBOUND_METADATA: 'true',
        DMR_MAX_MESSAGE_BYTES: '65536',
        DMR_MAX_IN_FLIGHT_SENDS: '16',
        DMR_MAX_EVENT_LOOP_DELAY_MS: '0',
        OUTGOING_MESSAGE_TIMEOUT_MS: '750',
        OUTGOING_MESSAGE_RETRIES: '5',
        DMR_DEDUP_WINDOW_SIZE: '10',
        DMR_SHUTDOWN_TIMEOUT_MS: '3000',
        DMR_ECDH_EPHEMERAL_REUSE_MS: '0',
      },
      noFiles,
    );

    expect(config).toMatchObject({
      environment: 'production',
      logLevel: 'debug',
      shutdownTimeoutMs: 3000,
      ephemeralKeyReuseMs: 0,
      http: { host: '127.0.0.1', port: 7000, maxMessageBytes: 65_536, maxInFlightSends: 16, maxEventLoopDelayMs: 0 },
      link: { reconnectDelayMs: 200, reconnectDelayMaxMs: 900, ackTimeoutMs: 1500 },
      delivery: { attemptTimeoutMs: 750, attempts: 5, dedupWindowSize: 10, allowUnboundMetadata: true },
    });
  });

  it('returns a frozen configuration', () => {
    const config = loadAgentConfig(minimal, noFiles);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.link)).toBe(true);
    expect(Object.isFrozen(config.delivery)).toBe(true);
  });

  it('accepts an EC P-256 key, and PEM with literal \\n escapes', () => {
    const escaped = ec.privatePem.trim().replace(/\n/g, '\\n');
    expect(loadAgentConfig({ ...minimal, AGENT_PRIVATE_KEY: escaped }, noFiles).privateKey.kind).toBe('ec-p256');
  });

  it('reads the key from AGENT_PRIVATE_KEY_FILE', () => {
    const reads: string[] = [];
    const files = withPeerCa((path: string) => {
      reads.push(path);
      return ec.privatePem;
    });
    const config = loadAgentConfig({ ...minimal, AGENT_PRIVATE_KEY: undefined, AGENT_PRIVATE_KEY_FILE: '/run/secrets/agent.pem' }, files);

    expect(reads).toEqual(['/run/secrets/agent.pem']);
    expect(config.privateKey.kind).toBe('ec-p256');
  });

  it('takes several server URLs for failover, in order, and names a bad entry', () => {
    const config = loadAgentConfig({ ...minimal, DMR_SERVER_WEBSOCKET_URL: 'wss://dmr-1.example.ee, wss://dmr-2.example.ee' }, noFiles);
    expect(config.link.serverUrls).toEqual(['wss://dmr-1.example.ee', 'wss://dmr-2.example.ee']);
    expect(config.delivery.chatOrderHoldMs).toBe(45_000);
    const error = configError({ ...minimal, DMR_SERVER_WEBSOCKET_URL: 'wss://dmr-1.example.ee,ftp://dmr-2.example.ee' });
    expect(error.message).toContain('DMR_SERVER_WEBSOCKET_URL must use http:, https:, ws: or wss:, got "ftp:"');
  });

  it('names every bad variable in one DMR_CONFIG_INVALID error', () => {
    const error = configError({
      AGENT_ID: 'not valid!',
      DMR_SERVER_WEBSOCKET_URL: 'ftp://dmr.example.ee',
      PORT: 'eighty',
      OUTGOING_MESSAGE_RETRIES: '0',
      LOGGER_LOG_LEVELS: 'error,loud',
      AGENT_ALLOW_UNBOUND_METADATA: 'maybe',
    });

    expect(error.code).toBe('DMR_CONFIG_INVALID');
    for (const name of [
      'AGENT_ID',
      'DMR_SERVER_WEBSOCKET_URL',
      'PORT',
      'OUTGOING_MESSAGE_RETRIES',
      'LOGGER_LOG_LEVELS',
      'AGENT_ALLOW_UNBOUND_METADATA',
      'OUTGOING_MESSAGE_ENDPOINT',
      'AGENT_PRIVATE_KEY or AGENT_PRIVATE_KEY_FILE',
    ]) {
      expect(error.message).toContain(name);
    }
    expect(error.message).not.toContain('\n');
  });

  it('refuses both key variables at once', () => {
    const error = configError({ ...minimal, AGENT_PRIVATE_KEY_FILE: '/run/secrets/agent.pem' });
    expect(error.message).toContain('AGENT_PRIVATE_KEY and AGENT_PRIVATE_KEY_FILE are both set');
  });

  it('refuses an unreadable key file, naming the variable', () => {
    const missing = withPeerCa(() => {
      throw new Error('ENOENT: no such file');
    });
    const error = configError({ ...minimal, AGENT_PRIVATE_KEY: undefined, AGENT_PRIVATE_KEY_FILE: '/nope.pem' }, missing);
    expect(error.message).toContain('AGENT_PRIVATE_KEY_FILE');
  });

  it('refuses keys DMR does not support: RSA below 2048 bits, curves other than P-256, garbage', () => {
    const shortRsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

    expect(configError({ ...minimal, AGENT_PRIVATE_KEY: shortRsa }).message).toMatch(/AGENT_PRIVATE_KEY: .*2048/);
    expect(configError({ ...minimal, AGENT_PRIVATE_KEY: p384 }).message).toMatch(/AGENT_PRIVATE_KEY: .*P-256/);
    expect(configError({ ...minimal, AGENT_PRIVATE_KEY: 'hello' }).message).toContain('AGENT_PRIVATE_KEY: ');
  });

  it('refuses a reconnect cap below the initial delay and an endpoint that is not http(s)', () => {
    const error = configError({
      ...minimal,
      WEBSOCKET_RECONNECTION_DELAY: '5000',
      WEBSOCKET_RECONNECTION_DELAY_MAX: '1000',
      OUTGOING_MESSAGE_ENDPOINT: 'ws://chatbot',
    });
    expect(error.message).toContain('WEBSOCKET_RECONNECTION_DELAY_MAX (1000) must be ≥ WEBSOCKET_RECONNECTION_DELAY (5000)');
    expect(error.message).toContain('OUTGOING_MESSAGE_ENDPOINT must use http: or https:');
  });

  describe('peer key trust (issue 15 finding 4)', () => {
    it('reads the CA bundle of DMR_PEER_CA_FILE and trusts no bare key by default', () => {
      const config = loadAgentConfig(minimal, noFiles);
      expect(config.peerTrust).toMatchObject({ caFile: PEER_CA_FILE, allowUnverified: false });
      expect(config.peerTrust.anchors).toHaveLength(1);
      expect([...config.peerTrust.legacyAgentIds]).toEqual([]);
    });

    it('falls back to DMR_TLS_CA_FILE', () => {
      const { DMR_PEER_CA_FILE: _peer, ...env } = minimal;
      const files = { readFile: (path: string) => (path === '/tls-ca.pem' ? peerCaPem : `PEM of ${path}`) };
      const config = loadAgentConfig({ ...env, DMR_TLS_CA_FILE: '/tls-ca.pem', DMR_ALLOW_PLAINTEXT: 'true' }, files);
      expect(config.peerTrust.caFile).toBe('/tls-ca.pem');
      expect(config.peerTrust.anchors).toHaveLength(1);
    });

    it('refuses to start without a CA for peer keys unless DMR_ALLOW_UNVERIFIED_PEER_KEYS=true', () => {
      const { DMR_PEER_CA_FILE: _peer, ...env } = minimal;
      expect(configError(env).message).toContain('DMR_PEER_CA_FILE (or DMR_TLS_CA_FILE) is required');
      const open = loadAgentConfig({ ...env, DMR_ALLOW_UNVERIFIED_PEER_KEYS: 'true' }, noFiles);
      expect(open.peerTrust).toMatchObject({ allowUnverified: true, anchors: [] });
      expect(configError({ ...env, DMR_ALLOW_UNVERIFIED_PEER_KEYS: 'yes please' }).message).toContain('DMR_ALLOW_UNVERIFIED_PEER_KEYS');
    });

    it('refuses a CA file that holds no CA certificate, naming the variable', () => {
      const files = { readFile: () => ec.privatePem };
      expect(configError(minimal, files).message).toMatch(
        /DMR_PEER_CA_FILE \(\/etc\/dmr\/peer-ca.pem\), the CA for peer keys: holds no PEM certificate/,
      );
    });

    it('reads DMR_LEGACY_AGENT_IDS as a comma list of agent ids and names a bad one', () => {
      const config = loadAgentConfig({ ...minimal, DMR_LEGACY_AGENT_IDS: ' seed-agent-1 ,seed-agent-2' }, noFiles);
      expect([...config.peerTrust.legacyAgentIds]).toEqual(['seed-agent-1', 'seed-agent-2']);
      expect(configError({ ...minimal, DMR_LEGACY_AGENT_IDS: 'ok-id,not ok!' }).message).toContain(
        'DMR_LEGACY_AGENT_IDS entry "not ok!" is not a valid agent id',
      );
    });
  });
});
