#!/usr/bin/env node
import { handleBinArgs, toDmrError } from '@dmr/shared';
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

const server = buildServer(loadConfigOrExit());
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
