import { Command, CommanderError } from '@commander-js/extra-typings';
import { DmrError, readPackageVersion, toDmrError, versionLine } from '@dmr/shared/base';
import { caCommand, crlCommand, revokeCommand } from './ca-commands.js';
import { certCommand } from './cert-commands.js';
import type { CliIo } from './output.js';

/** Exit code for a usage error or invalid input. */
export const EXIT_USAGE = 2;
/** Exit code for an operation that failed (the message names the DMR_* code). */
export const EXIT_FAILED = 1;

const USAGE_CODES: ReadonlySet<string> = new Set([
  'DMR_CA_INVALID_REQUEST',
  'DMR_CA_CERT_INVALID',
  'DMR_CRYPTO_KEY_INVALID',
  'DMR_CA_PURPOSE_MISMATCH',
]);

/** The `dmrctl` command tree, writing through `io` and throwing instead of exiting. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('dmrctl')
    .description('DMR control CLI: internal CA, certificates, revocation and CRL')
    .version(versionLine('dmrctl', readPackageVersion(new URL('../../package.json', import.meta.url))), '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError('(add --help for usage)');
  // subcommands inherit exitOverride/configureOutput only when added after them
  for (const command of [caCommand(io), certCommand(io), revokeCommand(io), crlCommand(io)]) {
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
 * 2 usage error or invalid input, 1 any other failure. Errors print as `dmrctl: CODE: message`.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    await buildProgram(io).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    const failure = error instanceof DmrError ? error : toDmrError(error);
    io.err(`dmrctl: ${failure.code}: ${failure.message}\n`);
    return USAGE_CODES.has(failure.code) ? EXIT_USAGE : EXIT_FAILED;
  }
}
