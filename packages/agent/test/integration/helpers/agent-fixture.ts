import { randomUUID } from 'node:crypto';
import { createLogger, type Logger } from '@dmr/shared';
import { type Agent, buildAgent, loadAgentConfig } from '../../../src/index.js';
import { agentEnv } from '../../helpers/agent-env.js';
import { generateKeys, type TestKeys } from '../../helpers/keys.js';
import { waitFor } from './wait-for.js';

/** An agent under test, with its keys and the log lines it wrote. */
export interface AgentFixture {
  readonly id: string;
  readonly keys: TestKeys;
  readonly agent: Agent;
  readonly logLines: Record<string, unknown>[];
}

/** Captures pino's JSON lines so tests can assert on the outcome lines. */
export function captureLogger(lines: Record<string, unknown>[]): Logger {
  return createLogger({ name: 'dmr-agent-test', level: 'info', destination: { write: (line: string) => lines.push(JSON.parse(line)) } });
}

/** Builds an agent through the real config loader (the env path main.ts uses). */
export function makeAgent(options: {
  serverUrl: string;
  endpointUrl: string;
  keys?: TestKeys;
  id?: string;
  env?: Record<string, string>;
}): AgentFixture {
  const id = options.id ?? randomUUID();
  const keys = options.keys ?? generateKeys('ec');
  const config = loadAgentConfig(
    agentEnv({
      agentId: id,
      privatePem: keys.privatePem,
      serverUrl: options.serverUrl,
      endpointUrl: options.endpointUrl,
      overrides: options.env,
    }),
  );
  const logLines: Record<string, unknown>[] = [];
  const agent = buildAgent(config, { logger: captureLogger(logLines), endpointBackoff: { initialDelayMs: 10, maxDelayMs: 20 } });
  return { id, keys, agent, logLines };
}

/** Waits until `/v1/ready` answers 200. */
export async function waitUntilReady(agent: Agent): Promise<void> {
  await waitFor('agent ready', async () => (await agent.app.inject({ method: 'GET', url: '/v1/ready' })).statusCode === 200);
}

/** The outcome log lines (`msg: 'message outcome'`). */
export function outcomeLines(fixture: AgentFixture): Record<string, unknown>[] {
  return fixture.logLines.filter((line) => line.msg === 'message outcome');
}
