#!/usr/bin/env node
import { createLogger, guardProcess, handleBinArgs, toDmrError } from '@dmr/shared';
import { serverBinInfo } from './bin-info.js';
import { buildServer } from './build-server.js';
import { loadServerConfig } from './config/index.js';

// --help / --version (and a refusal of any other argument) before the configuration is read
handleBinArgs(serverBinInfo());

function loadConfigOrExit() {
  try {
    return loadServerConfig(process.env);
  } catch (error) {
    process.stderr.write(`dmr-server: ${toDmrError(error).message}\n`);
    process.exit(2);
  }
}

const config = loadConfigOrExit();
const log = createLogger({ name: 'dmr-server', level: config.logLevel });
const server = buildServer(config, { log });
// from here on no error escaping a handler ends the process (issue 15); start-up failures still exit below
guardProcess(process, {
  log,
  count: (kind, code) => server.metrics.processUnhandledErrorsTotal.inc({ kind, code }),
});
let signalCount = 0;
const onSignal = (signal: NodeJS.Signals): void => {
  signalCount++;
  if (signalCount > 1) process.exit(1);
  server.app.log.info({ signal }, 'shutdown requested');
  void server.stop().then(() => process.exit(0));
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);
// SIGHUP: re-read the registry now and accept it once even if it removes more than CENTOPS_MAX_REMOVED_SHARE of the agents
process.on('SIGHUP', () => void server.registry.sync({ force: true }));

try {
  await server.start();
} catch (error) {
  const failure = toDmrError(error);
  process.stderr.write(`dmr-server: failed to start: ${failure.message}\n`);
  await server.stop();
  // a configured file found bad only at start (a CRL not signed by the CA) is a configuration error like any other
  process.exit(failure.code === 'DMR_CONFIG_INVALID' ? 2 : 1);
}
