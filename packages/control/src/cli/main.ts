#!/usr/bin/env node
import { runCli } from './program.js';

// the first Ctrl-C asks a running move to stop cleanly (in-flight messages settle, the rest stays in the source)
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
process.once('SIGTERM', () => stop.abort());

process.exitCode = await runCli(
  process.argv.slice(2),
  { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) },
  { env: process.env, signal: stop.signal },
);
