import { type DestinationStream, type Logger, pino } from 'pino';
import type { LogLevel } from '../config/log-level.js';
import { turnBatchedDestination } from './turn-batched-destination.js';

/**
 * Paths pino masks even if a caller logs a whole object by mistake: message content,
 * the encrypted payload, tokens and keys never reach a log line.
 */
export const REDACT_PATHS = [
  'payload',
  '*.payload',
  'content',
  '*.content',
  'req.body',
  'body',
  'auth',
  '*.auth',
  'token',
  '*.token',
  'privateKey',
  '*.privateKey',
  'req.headers.authorization',
];

/** Every DMR log line: ISO time, the level as its name. */
const LINE_FORMAT = {
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label: string) => ({ level: label }) },
};

/**
 * Creates the root JSON logger of a process; components take `log.child({ component })`. Without a destination it
 * writes to stdout, one write per event-loop turn ({@link turnBatchedDestination}).
 */
export function createLogger(options: {
  name: string;
  level: LogLevel;
  destination?: DestinationStream;
  /** Paths masked besides {@link REDACT_PATHS} (dmr-control: CA and TLS keys, enrollment tokens). */
  redact?: readonly string[];
}): Logger {
  return pino(
    {
      ...LINE_FORMAT,
      name: options.name,
      level: options.level,
      redact: { paths: [...REDACT_PATHS, ...(options.redact ?? [])], censor: '[redacted]' },
    },
    options.destination ?? turnBatchedDestination(),
  );
}

/**
 * A logger for one fixed-shape line built only from named metadata fields (the per-message outcome line): same
 * destination, level, name and bindings as `log`, without pino's redaction pass. Redaction costs ~6 µs per line,
 * two thirds of the line's cost, and can match nothing in a line whose keys are fixed and none of
 * {@link REDACT_PATHS}; three outcome lines per message made it about 1 % of the relay's CPU. Never pass objects of
 * unknown shape (errors, requests, message bodies) through it: use `log` for those.
 */
export function fixedShapeLogger(log: Logger): Logger {
  let fixed = fixedShapeLoggers.get(log);
  if (!fixed) {
    fixed = unredactedTwin(log);
    fixedShapeLoggers.set(log, fixed);
  }
  return fixed;
}

// one twin per logger: hot paths call fixedShapeLogger per message
const fixedShapeLoggers = new WeakMap<Logger, Logger>();

function unredactedTwin(log: Logger): Logger {
  const destination = (log as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym];
  if (!destination) return log;
  const unredacted = pino({ ...LINE_FORMAT, level: log.level }, destination);
  return unredacted.child(log.bindings());
}

export type { Logger };
