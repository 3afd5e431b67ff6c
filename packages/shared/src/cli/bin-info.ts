import { readFileSync } from 'node:fs';

/** What `--help` and `--version` of an env-configured deployable (dmr-server, dmr-agent) print. */
export interface BinInfo {
  /** The command name, e.g. `dmr-server`. */
  readonly name: string;
  /** The DMR version (the package's `version`). */
  readonly version: string;
  /** The `--help` text: a short usage, the main environment variables and where the full table is. */
  readonly help: string;
}

/** What the process should do for its arguments: run normally, or print and exit with `exitCode`. */
export type BinArgsOutcome =
  | { readonly kind: 'run' }
  | { readonly kind: 'exit'; readonly exitCode: number; readonly stdout: string; readonly stderr: string };

/** `dmr-server 0.1.0 (node v24.22.3)`: the DMR version and the Node it runs on (support asks for both). */
export function versionLine(name: string, version: string, nodeVersion: string = process.version): string {
  return `${name} ${version} (node ${nodeVersion})`;
}

/**
 * Decides what the deployable does with its command-line arguments. Configuration is by environment variables only,
 * so the only arguments are `--help`/`-h` and `--version`/`-V`; anything else exits 2 (the configuration-error code,
 * docs/errors.md) instead of being ignored, so a mistyped flag is never silently a no-op.
 */
export function binArgsOutcome(argv: readonly string[], info: BinInfo, nodeVersion: string = process.version): BinArgsOutcome {
  if (argv.length === 0) return { kind: 'run' };
  const [first] = argv;
  if (argv.length === 1 && (first === '--help' || first === '-h')) {
    return { kind: 'exit', exitCode: 0, stdout: withNewline(info.help), stderr: '' };
  }
  if (argv.length === 1 && (first === '--version' || first === '-V')) {
    return { kind: 'exit', exitCode: 0, stdout: `${versionLine(info.name, info.version, nodeVersion)}\n`, stderr: '' };
  }
  const stderr =
    `${info.name}: unexpected argument${argv.length > 1 ? 's' : ''} ${argv.map((arg) => JSON.stringify(arg)).join(' ')}: ` +
    `it is configured by environment variables only (--help lists them; --version prints the version)\n`;
  return { kind: 'exit', exitCode: 2, stdout: '', stderr };
}

/** The `version` of the package.json at `packageJsonUrl` (resolved from the caller's `import.meta.url`). */
export function readPackageVersion(packageJsonUrl: URL): string {
  const parsed: unknown = JSON.parse(readFileSync(packageJsonUrl, 'utf8'));
  // a property of any other JSON primitive reads as undefined; null is the one value that has none to read
  const version = parsed === null ? undefined : (parsed as { version?: unknown }).version;
  if (typeof version !== 'string') throw new Error(`${packageJsonUrl.pathname} has no version`);
  return version;
}

/**
 * Applies {@link binArgsOutcome} to this process: prints and exits for `--help`/`--version`/bad arguments, returns
 * when the deployable should start. Called first in main, before the configuration is read.
 */
export function handleBinArgs(info: BinInfo, argv: readonly string[] = process.argv.slice(2)): void {
  const outcome = binArgsOutcome(argv, info);
  if (outcome.kind === 'run') return;
  process.stdout.write(outcome.stdout);
  process.stderr.write(outcome.stderr);
  process.exit(outcome.exitCode);
}

function withNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}
