#!/usr/bin/env node
import { createLogger, guardProcess, toDmrError } from '@dmr/shared';
import { buildServer } from './build-server.js';
import { loadServerConfig } from './config/index.js';

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

try {
  await server.start();
} catch (error) {
  process.stderr.write(`dmr-server: failed to start: ${toDmrError(error).message}\n`);
  await server.stop();
  process.exit(1);
}
