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

/**
 * Creates the root JSON logger of a process; components take `log.child({ component })`. Without a destination it
 * writes to stdout, one write per event-loop turn ({@link turnBatchedDestination}).
 */
export function createLogger(options: { name: string; level: LogLevel; destination?: DestinationStream }): Logger {
  return pino(
    {
      name: options.name,
      level: options.level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? turnBatchedDestination(),
  );
}

export type { Logger };
