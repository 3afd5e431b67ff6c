// `dmrctl export` and `dmrctl import`: the whole registry and the current policy as one YAML or JSON document (the
// API's registry document). Declarations only; transfer-actions.ts loads when one runs.
import { Command, type CommandUnknownOpts, Option } from '@commander-js/extra-typings';
import { withApiOptions } from './api-options.js';
import type { CliContext, CliIo } from './output.js';

const actions = () => import('./transfer-actions.js');

/** `dmrctl export [--format yaml|json] [-o file]`. */
export function exportCommand(io: CliIo, context: CliContext): CommandUnknownOpts {
  return withApiOptions(
    new Command('export').description('write every agent and the current policy as one registry document (YAML or JSON)'),
    false,
  )
    .addOption(
      new Option('--format <format>', 'yaml or json (default: from the -o file name, else yaml)').choices(['yaml', 'json'] as const),
    )
    .option('-o, --out <file>', 'write to this file (0600, replaced atomically) instead of stdout')
    .option('--force', 'replace the -o file when it exists')
    .action(async (flags) => (await actions()).exportDocument(io, context, flags));
}

/** `dmrctl import <file> [--dry-run]`. */
export function importCommand(io: CliIo, context: CliContext): CommandUnknownOpts {
  return withApiOptions(
    new Command('import')
      .description(
        "apply a registry document (dmrctl export's format) in one transaction: agents added and changed, the policy stored as a new version if it differs; --dry-run prints the diff and changes nothing",
      )
      .argument('<file>', 'a registry document: .json is read as JSON, anything else as YAML'),
  )
    .option('--dry-run', 'print what would be added, changed (field by field) and removed; apply nothing')
    .option('--prune', 'also remove the agents of the registry that the document does not list')
    .action(async (file, flags) => (await actions()).importDocument(io, context, file, flags));
}
