import { Command, CommanderError } from '@commander-js/extra-typings';
import { DmrError, readPackageVersion, toDmrError, versionLine } from '@dmr/shared/base';
import { caCommand, crlCommand, revokeCommand } from './ca-commands.js';
import { certCommand } from './cert-commands.js';
import type { CliContext, CliIo } from './output.js';
import { queuesCommand } from './queues-commands.js';

/** Exit code for a usage error or invalid input. */
export const EXIT_USAGE = 2;
/** Exit code for an operation that failed (the message names the DMR_* code). */
export const EXIT_FAILED = 1;
/** Exit code of `queues migrate` refusing because a seed-003 server still consumes a source queue. */
export const EXIT_SOURCE_IN_USE = 3;

const USAGE_CODES: ReadonlySet<string> = new Set([
  'DMR_CA_INVALID_REQUEST',
  'DMR_CA_CERT_INVALID',
  'DMR_CRYPTO_KEY_INVALID',
  'DMR_CA_PURPOSE_MISMATCH',
  'DMR_CONFIG_INVALID',
]);

/** The `dmrctl` command tree, writing through `io` and throwing instead of exiting. */
export function buildProgram(io: CliIo, context: CliContext = { env: {} }): Command {
  const program = new Command('dmrctl')
    .description('DMR control CLI: internal CA, certificates, revocation and CRL; queue migration from seed 003')
    .version(versionLine('dmrctl', readPackageVersion(new URL('../../package.json', import.meta.url))), '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError('(add --help for usage)');
  // subcommands inherit exitOverride/configureOutput only when added after them
  for (const command of [caCommand(io), certCommand(io), revokeCommand(io), crlCommand(io), queuesCommand(io, context)]) {
    program.addCommand(inheritSettings(command, program));
  }
  return program;
}

function inheritSettings(command: Command, parent: Command): Command {
  command.copyInheritedSettings(parent);
  for (const child of command.commands) inheritSettings(child as Command, command);
  return command;
}

/**
 * Runs `dmrctl` with `argv` (without node and script) and returns the exit code: 0 done,
 * 2 usage error or invalid input (also a bad environment variable), 3 a source queue still in use (`queues migrate`),
 * 1 any other failure. Errors print as `dmrctl: CODE: message`.
 */
export async function runCli(argv: readonly string[], io: CliIo, context: CliContext = { env: {} }): Promise<number> {
  try {
    await buildProgram(io, context).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    const failure = error instanceof DmrError ? error : toDmrError(error);
    io.err(`dmrctl: ${failure.code}: ${failure.message}\n`);
    if (failure.code === 'DMR_MIGRATE_SOURCE_IN_USE') return EXIT_SOURCE_IN_USE;
    return USAGE_CODES.has(failure.code) ? EXIT_USAGE : EXIT_FAILED;
  }
}
