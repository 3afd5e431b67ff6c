// Options shared by every dmrctl command that talks to dmr-control, and their parsers. Light on purpose: the command
// tree loads this for `--help`; the client itself loads when a command runs.
import { type Command, InvalidArgumentError, Option, type OptionValues } from '@commander-js/extra-typings';
import { isAgentId } from '@dmr/shared/base';

/** `--output`: `table` for people (the default), `json` for scripts (a stable shape, see the README). */
export const OUTPUT_FORMATS = ['table', 'json'] as const;
/** One of {@link OUTPUT_FORMATS}. */
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/**
 * The connection and output flags of an API command, as commander parses them. A type alias, not an interface:
 * commander's typings need option values to be assignable to an index signature.
 */
export type ApiFlags = {
  readonly url?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly ca?: string;
  readonly timeoutMs?: number;
  readonly output: OutputFormat;
};

/**
 * Adds `--url`, `--cert`, `--key`, `--ca`, `--timeout-ms` and (unless `hasOutput` is false) `--output` to an API command.
 * Each connection flag names the variable it stands in for.
 */
export function withApiOptions<Args extends unknown[], Opts extends OptionValues, Globals extends OptionValues>(
  command: Command<Args, Opts, Globals>,
  hasOutput = true,
): Command<Args, Opts & ApiFlags, Globals> {
  command
    .addOption(new Option('--url <url>', "dmr-control's admin API, https:// only (env DMR_CONTROL_URL)"))
    .addOption(new Option('--cert <file>', 'admin client certificate, PEM, from "dmrctl cert admin" (env DMR_CONTROL_CERT_FILE)'))
    .addOption(new Option('--key <file>', 'its private key, PEM (env DMR_CONTROL_KEY_FILE)'))
    .addOption(
      new Option('--ca <file>', "CA bundle that signed dmr-control's certificate (env DMR_CONTROL_CA_FILE; default: Node's roots)"),
    )
    .addOption(new Option('--timeout-ms <ms>', 'time one request may take (default: 30000)').argParser(parseWhole(1)));
  if (hasOutput)
    command.addOption(new Option('--output <format>', 'table (for people) or json (for scripts)').choices(OUTPUT_FORMATS).default('table'));
  // the options were added above; commander's typings cannot follow a loop of addOption calls
  return command as unknown as Command<Args, Opts & ApiFlags, Globals>;
}

/** A parser for whole numbers ≥ `min`. */
export function parseWhole(min: number): (value: string) => number {
  return (value) => {
    const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min) throw new InvalidArgumentError(`expected a whole number ≥ ${min}`);
    return parsed;
  };
}

const DURATION_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** Parses a duration such as `30d`, `12h`, `90m`, `45s` or `2w` into milliseconds. */
export function parseDuration(value: string): number {
  const match = /^(\d{1,6})([smhdw])$/.exec(value.trim());
  if (match === null) throw new InvalidArgumentError('expected a number and a unit: 45s, 90m, 12h, 30d or 2w');
  return Number(match[1]) * (DURATION_UNITS[match[2] ?? 's'] ?? 1) * 1000;
}

/**
 * Parses `--since`: an ISO 8601 time with a zone, or a span back from now (`7d`) turned into one. Returns the ISO text
 * the API takes. `now` is a parameter for tests.
 */
export function parseSince(value: string, _previous?: string, now: Date = new Date()): string {
  if (/^\d{1,6}[smhdw]$/.test(value.trim())) return new Date(now.getTime() - parseDuration(value)).toISOString();
  const at = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(at)) throw new InvalidArgumentError('expected an ISO 8601 time with a zone (2026-12-07T10:00:00Z) or a span (7d)');
  return new Date(at).toISOString();
}

/** Parses `key=value` into a pair (commander accumulator: repeated flags collect into a list). */
export function parseLabel(value: string, previous: [string, string][] = []): [string, string][] {
  const at = value.indexOf('=');
  if (at < 1) throw new InvalidArgumentError('expected key=value');
  return [...previous, [value.slice(0, at), value.slice(at + 1)]];
}

/** Collects a repeated string flag into a list. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Checks an agent id argument against the registry's pattern. */
export function parseAgentId(value: string): string {
  if (!isAgentId(value)) throw new InvalidArgumentError('not an agent id (^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$)');
  return value;
}
