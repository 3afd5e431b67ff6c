#!/usr/bin/env node
import { createLogger, guardProcess, handleBinArgs, toDmrError } from '@dmr/shared';
import { controlBinInfo } from './bin-info.js';
import { buildControl, CONTROL_REDACT_PATHS } from './build-control.js';
import { loadControlConfig } from './control-config.js';

// --help / --version (and a refusal of any other argument) before the configuration is read
handleBinArgs(controlBinInfo());

function loadConfigOrExit() {
  try {
    return loadControlConfig(process.env);
  } catch (error) {
    process.stderr.write(`dmr-control: ${toDmrError(error).message}\n`);
    process.exit(2);
  }
}

const config = loadConfigOrExit();
const log = createLogger({ name: 'dmr-control', level: config.logLevel, redact: CONTROL_REDACT_PATHS });
const control = buildControl(config, { log });
// from here on no error escaping a handler ends the process (issue 15); start-up failures still exit below
guardProcess(process, { log, count: (kind, code) => control.metrics.processUnhandledErrorsTotal.inc({ kind, code }) });
let signalCount = 0;
const onSignal = (signal: NodeJS.Signals): void => {
  signalCount++;
  if (signalCount > 1) process.exit(1);
  log.info({ signal }, 'shutdown requested');
  void control.stop().then(() => process.exit(0));
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);

try {
  await control.start();
} catch (error) {
  const failure = toDmrError(error);
  process.stderr.write(`dmr-control: failed to start: ${failure.message}\n`);
  await control.stop();
  process.exit(failure.code === 'DMR_CONFIG_INVALID' ? 2 : 1);
}
