import type { Env } from '@dmr/shared';
import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../src/config/index.js';
import { generateKeys } from '../helpers/keys.js';

const noFiles = {
  readFile: (path: string): string => {
    throw new Error(`unexpected read of ${path}`);
  },
};

const env: Env = {
  AGENT_ID: 'agent-ops',
  AGENT_PRIVATE_KEY: generateKeys('ec').privatePem,
  DMR_SERVER_WEBSOCKET_URL: 'http://dmr:5000',
  OUTGOING_MESSAGE_ENDPOINT: 'http://chatbot:8080/dmr',
  DMR_ALLOW_PLAINTEXT: 'true',
  DMR_ALLOW_UNVERIFIED_PEER_KEYS: 'true',
};

describe('dmr-agent ops listener settings', () => {
  it('has no ops listener unless DMR_OPS_PORT is set, and binds loopback by default', () => {
    expect(loadAgentConfig(env, noFiles).ops).toBeUndefined();
    expect(loadAgentConfig({ ...env, DMR_OPS_PORT: '9465' }, noFiles).ops).toEqual({ host: '127.0.0.1', port: 9465 });
    expect(loadAgentConfig({ ...env, DMR_OPS_PORT: '0', DMR_OPS_HOST: '::1' }, noFiles).ops).toEqual({ host: '::1', port: 0 });
  });

  it('refuses the API port as ops port (default PORT 5001) and a host without a port, naming the variable', () => {
    expect(() => loadAgentConfig({ ...env, DMR_OPS_PORT: '5001' }, noFiles)).toThrow(/DMR_OPS_PORT \(5001\) must differ from PORT/);
    expect(() => loadAgentConfig({ ...env, DMR_OPS_HOST: 'localhost' }, noFiles)).toThrow(/DMR_OPS_HOST is set but DMR_OPS_PORT is not/);
    expect(() => loadAgentConfig({ ...env, DMR_OPS_PORT: 'x' }, noFiles)).toThrow(/DMR_OPS_PORT must be an integer/);
  });
});
