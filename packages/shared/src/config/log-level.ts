/** pino levels DMR uses. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

const SEED_LEVELS: Record<string, LogLevel> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  log: 'info',
  info: 'info',
  debug: 'debug',
  verbose: 'trace',
  trace: 'trace',
  silent: 'silent',
};
const ORDER: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/**
 * Seed 003's `LOGGER_LOG_LEVELS` is a comma list of enabled levels (`error,warn,log`);
 * pino takes one threshold, so the most verbose listed level wins. Returns undefined for an unknown level.
 */
export function parseLogLevels(value: string): LogLevel | undefined {
  const levels = value.split(',').map((part) => SEED_LEVELS[part.trim().toLowerCase()]);
  // Stryker disable next-line ConditionalExpression: `split` always yields at least one element; the length test is a guard only
  if (levels.length === 0 || levels.some((level) => level === undefined)) return undefined;
  return ORDER.find((level) => levels.includes(level));
}
