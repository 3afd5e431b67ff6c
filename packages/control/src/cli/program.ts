import { Command, CommanderError, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { DmrError, readPackageVersion, toDmrError, versionLine } from '@dmr/shared/base';
import { agentsCommand } from './agents-commands.js';
import { ControlApiError, formatApiError, isRevisionConflict } from './api-client/api-error.js';
import { caRingCommand, certsCommand, changesCommand, policiesCommand, serversCommand } from './api-commands.js';
import { auditCommand } from './audit-commands.js';
import { caCommand, crlCommand, revokeCommand } from './ca-commands.js';
import { certCommand } from './cert-commands.js';
import { type CliContext, type CliIo, UsageError } from './output.js';
import { policyCommand } from './policy-commands.js';
import { queuesCommand } from './queues-commands.js';
import { exportCommand, importCommand } from './transfer-commands.js';

/** Exit code for a usage error or invalid input. */
export const EXIT_USAGE = 2;
/** Exit code for an operation that failed (the message names the DMR_* code). */
export const EXIT_FAILED = 1;
/** Exit code of `queues migrate` refusing because a seed-003 server still consumes a source queue. */
export const EXIT_SOURCE_IN_USE = 3;
/** Exit code of an update refused because the record changed since it was read (the API's 412): read again, retry. */
export const EXIT_CONFLICT = 4;

const USAGE_CODES: ReadonlySet<string> = new Set([
  'DMR_CA_INVALID_REQUEST',
  'DMR_CA_CERT_INVALID',
  'DMR_CRYPTO_KEY_INVALID',
  'DMR_CA_PURPOSE_MISMATCH',
  'DMR_CONFIG_INVALID',
  'DMR_CLI_DOCUMENT_INVALID',
  'DMR_POLICY_INVALID',
]);

// API answers that mean the request itself was wrong (bad field, too large): the caller's input, like a usage error
const INVALID_INPUT_STATUSES: ReadonlySet<number> = new Set([400, 413, 422]);

/** The `dmrctl` command tree, writing through `io` and throwing instead of exiting. */
export function buildProgram(io: CliIo, context: CliContext = { env: {} }): Command {
  const program = new Command('dmrctl')
    .description(
      "DMR control CLI: dmr-control's admin API (agents, certs, servers, changes, policies, export/import); policy test/diff offline; the offline CA (ca, cert, revoke, crl); the audit log (audit); queue migration from seed 003",
    )
    .version(versionLine('dmrctl', readPackageVersion(new URL('../../package.json', import.meta.url))), '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError('(add --help for usage)');
  // subcommands inherit exitOverride/configureOutput only when added after them
  const commands: CommandUnknownOpts[] = [
    agentsCommand(io, context),
    certsCommand(io, context),
    caRingCommand(io, context),
    serversCommand(io, context),
    changesCommand(io, context),
    policiesCommand(io, context),
    policyCommand(io),
    exportCommand(io, context),
    importCommand(io, context),
    caCommand(io),
    certCommand(io),
    revokeCommand(io),
    crlCommand(io),
    queuesCommand(io, context),
    auditCommand(io, context),
  ];
  for (const command of commands) {
    program.addCommand(inheritSettings(command, program));
  }
  return program;
}

function inheritSettings(command: CommandUnknownOpts, parent: CommandUnknownOpts): CommandUnknownOpts {
  command.copyInheritedSettings(parent);
  for (const child of command.commands) inheritSettings(child, command);
  return command;
}

/**
 * Runs `dmrctl` with `argv` (without node and script) and returns the exit code: 0 done,
 * 2 usage error or invalid input (also a bad environment variable, an invalid document, the API's 400/413/422),
 * 3 a source queue still in use (`queues migrate`), 4 a record changed since it was read (the API's 412),
 * 1 any other failure (the API's 401 and 403 included). Errors print as `dmrctl: CODE: message`.
 */
export async function runCli(argv: readonly string[], io: CliIo, context: CliContext = { env: {} }): Promise<number> {
  try {
    await buildProgram(io, context).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    if (error instanceof UsageError) {
      io.err(`dmrctl: ${error.message}\n(add --help for usage)\n`);
      return EXIT_USAGE;
    }
    if (error instanceof ControlApiError) return reportApiError(io, error);
    const failure = error instanceof DmrError ? error : toDmrError(error);
    io.err(`dmrctl: ${failure.code}: ${failure.message}\n`);
    if (failure.code === 'DMR_MIGRATE_SOURCE_IN_USE') return EXIT_SOURCE_IN_USE;
    return USAGE_CODES.has(failure.code) ? EXIT_USAGE : EXIT_FAILED;
  }
}

/** Prints an API refusal with its code (and a hint for a conflict) and returns its exit code. */
export function reportApiError(io: CliIo, error: ControlApiError): number {
  io.err(`dmrctl: ${formatApiError(error)}\n`);
  if (isRevisionConflict(error)) {
    io.err('dmrctl: it changed since it was read, so nothing was written: read it again and retry\n');
    return EXIT_CONFLICT;
  }
  return INVALID_INPUT_STATUSES.has(error.statusCode) ? EXIT_USAGE : EXIT_FAILED;
}
