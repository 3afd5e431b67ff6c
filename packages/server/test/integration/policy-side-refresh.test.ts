// Issue 19: a `policy` announcement clears the opa engine's decision cache even when the document the server reads
// did not change (OPA's bundle may have). The server's policy side built from the real config (DMR_POLICY_ENGINE=opa,
// DMR_POLICY_URL file) against a real HTTP stand-in for OPA's Data API that counts the decisions it is asked for.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@dmr/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../../src/config/index.js';
import { createServerMetrics } from '../../src/obs/index.js';
import { createPolicySide, type PolicySide } from '../../src/policy-side.js';
import type { AgentRegistry } from '../../src/registry/index.js';

let opa: Server;
let asked = 0;
let dir: string;
let side: PolicySide | undefined;

beforeAll(async () => {
  opa = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      asked++;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ result: { allow: true, reason: 'ALLOW_RULE', ruleId: 'r', policyVersion: 3 } }));
    });
  });
  await new Promise<void>((done) => opa.listen(0, '127.0.0.1', done));
  dir = mkdtempSync(join(tmpdir(), 'dmr-policy-side-'));
});

afterAll(async () => {
  await side?.stop();
  opa.closeAllConnections();
  await new Promise((done) => opa.close(done));
  rmSync(dir, { recursive: true, force: true });
});

describe('the policy side with DMR_POLICY_ENGINE=opa', () => {
  it('answers repeated decisions from its cache, and a policy announcement (refresh) clears it', async () => {
    const policyPath = join(dir, 'policy.json');
    writeFileSync(policyPath, JSON.stringify({ format: 'dmr-policy/v1', version: 3, defaultDecision: 'allow', rules: [] }));
    const config = loadServerConfig({
      CENTOPS_CONFIGURATION_URL: 'file:///tmp/agents.json',
      CENTOPS_CONFIGURATION_CRON_TIME: '0 0 1 1 *',
      RABBITMQ_DEFAULT_HOST: '127.0.0.1',
      RABBITMQ_DEFAULT_PORT: '5672',
      RABBITMQ_DEFAULT_MANAGEMENT_UI_URI: 'http://127.0.0.1:15672',
      RABBITMQ_DEFAULT_USER: 'dmr',
      RABBITMQ_DEFAULT_PASS: 'secret',
      DMR_ALLOW_PLAINTEXT: 'true',
      DMR_POLICY_ENGINE: 'opa',
      DMR_OPA_URL: `http://127.0.0.1:${(opa.address() as AddressInfo).port}`,
      DMR_POLICY_URL: `file://${policyPath}`,
    });
    const registry = { attributesOf: () => ({ institution: '', groups: [] }) } as unknown as AgentRegistry;
    side = createPolicySide(
      config,
      registry,
      createServerMetrics(),
      createLogger({ name: 'policy-side-test', level: 'error', destination: { write: () => undefined } }),
    );
    await side.start();
    expect(side.point.readiness()).toEqual({ engine: 'opa', version: 3 });
    const message = { senderId: 'a', recipientId: 'b', type: 'ChatMessage' };
    expect(await side.point.decide(message, null)).toMatchObject({ ok: true, decision: { allow: true, policyVersion: 3 } });
    expect(await side.point.decide(message, null)).toMatchObject({ ok: true });
    expect(asked).toBe(1);
    expect(side.refresh).toBeDefined();
    // the document read is unchanged, so the engine's load() is not called: only the announcement path clears
    expect(await side.refresh?.()).toBe(true);
    expect(await side.point.decide(message, null)).toMatchObject({ ok: true });
    expect(asked).toBe(2);
  });
});
