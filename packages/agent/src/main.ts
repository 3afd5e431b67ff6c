#!/usr/bin/env node
import { createLogger, DmrError, guardProcess, handleBinArgs } from '@dmr/shared';
import { agentBinInfo } from './bin-info.js';
import { type AgentConfig, buildAgent, enrollmentExitCode, loadAgentConfig, prepareAgentCertificate } from './index.js';

// --help / --version (and a refusal of any other argument) before the configuration is read
handleBinArgs(agentBinInfo());

// issue 18: with DMR_CONTROL_URL, a key and certificate are made sure of (enrolling with DMR_ENROLLMENT_TOKEN) before
// the configuration reads their files
await prepareAgentCertificate(process.env).catch((error: unknown) => {
  process.stderr.write(`dmr-agent: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(enrollmentExitCode(error));
});

// The only place that reads process.env: everything below gets the parsed, frozen config.
let config: AgentConfig;
try {
  config = loadAgentConfig(process.env);
} catch (error) {
  const message = error instanceof DmrError ? error.message : String(error);
  process.stderr.write(`dmr-agent: ${message}\n`);
  // Exit code 2 marks a configuration error (docs/errors.md, DMR_CONFIG_INVALID), distinct from a runtime failure (1).
  process.exit(2);
}

const log = createLogger({ name: 'dmr-agent', level: config.logLevel });
const agent = buildAgent(config, { logger: log });
// from here on no error escaping a handler ends the process (issue 15); a failed start still exits below
guardProcess(process, { log, count: (kind, code) => agent.metrics.unhandledError(kind, code) });
let signalCount = 0;

function onSignal(signal: NodeJS.Signals): void {
  signalCount += 1;
  // A second signal means the operator does not want to wait for the drain.
  const force = signalCount > 1;
  log.info({ signal, force }, 'shutting down');
  agent.stop({ force }).then(
    () => process.exit(0),
    (error: unknown) => {
      log.fatal({ err: error }, 'shutdown failed');
      process.exit(1);
    },
  );
}

process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);

agent.start().catch(async (error: unknown) => {
  log.fatal({ err: error }, 'agent failed to start');
  await agent.stop({ force: true });
  process.exit(1);
});
