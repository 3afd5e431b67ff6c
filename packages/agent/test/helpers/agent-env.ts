import type { Env } from '@dmr/shared';
import { PEER_CA_FILE } from './peer-ca.js';

/** Environment of an agent under test: loopback, port 0, short delays; `overrides` wins. */
export function agentEnv(options: {
  agentId: string;
  privatePem: string;
  serverUrl: string;
  endpointUrl: string;
  overrides?: Record<string, string>;
}): Env {
  return {
    AGENT_ID: options.agentId,
    AGENT_PRIVATE_KEY: options.privatePem,
    DMR_SERVER_WEBSOCKET_URL: options.serverUrl,
    OUTGOING_MESSAGE_ENDPOINT: options.endpointUrl,
    HOST: '127.0.0.1',
    PORT: '0',
    WEBSOCKET_RECONNECTION_DELAY: '50',
    WEBSOCKET_RECONNECTION_DELAY_MAX: '200',
    MESSAGE_DELIVERY_TIMEOUT_MS: '2000',
    OUTGOING_MESSAGE_TIMEOUT_MS: '2000',
    DMR_SHUTDOWN_TIMEOUT_MS: '5000',
    // these tests talk to a plain test peer; mutual TLS is covered end to end in test/e2e/mtls.test.ts
    DMR_ALLOW_PLAINTEXT: 'true',
    // peers are trusted only through the CA (the test peer lists certificates from it), as in production
    DMR_PEER_CA_FILE: PEER_CA_FILE,
    // these agents share the test runner's event loop (synchronous key generation, other suites' work): a stall
    // there must not turn into a 503 the test did not ask for; backpressure.test.ts turns it on where it is tested
    DMR_MAX_EVENT_LOOP_DELAY_MS: '0',
    ...options.overrides,
  };
}
