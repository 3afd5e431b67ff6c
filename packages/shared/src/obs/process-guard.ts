import { toDmrError } from '../errors.js';
import type { Logger } from './logger.js';

/** The two process events that end a Node process when nobody listens. */
export type ProcessErrorKind = 'unhandledRejection' | 'uncaughtException';

/** Port: the part of `process` the guard needs (an EventEmitter in tests). */
export interface ProcessEvents {
  on(event: ProcessErrorKind, listener: (error: unknown) => void): unknown;
}

/** Where the guard reports. */
export interface ProcessGuardDeps {
  readonly log: Logger;
  /** Counts one survived error (`dmr_process_unhandled_errors_total{kind, code}`); `code` is a catalog code. */
  readonly count: (kind: ProcessErrorKind, code: string) => void;
}

/**
 * Keeps a long-running deployable serving when a bug lets an error escape: an unhandled rejection or an uncaught
 * exception is logged with its DMR code and counted, never a process exit. Every socket handler already catches its
 * own errors (issue 15); this is the last line, so one agent's input can never take the relay down for every agent.
 * Start-up failures keep their own fatal path in `main.ts` (they are caught there, before they reach the guard).
 *
 * Node documents that resuming after `uncaughtException` may leave state inconsistent; the relay holds no state
 * that RabbitMQ does not also hold (unacked deliveries come back when a channel closes), so serving on is the
 * lesser risk than a fleet-wide exit. The counter makes every occurrence visible to alerting.
 */
export function guardProcess(target: ProcessEvents, deps: ProcessGuardDeps): void {
  const report = (kind: ProcessErrorKind) => (error: unknown) => {
    const code = toDmrError(error).code;
    try {
      deps.count(kind, code);
      deps.log.error({ kind, code, err: error }, 'unhandled error survived; serving on');
    } catch {
      // reporting must never throw from inside the handler: that would end the process after all
    }
  };
  target.on('unhandledRejection', report('unhandledRejection'));
  target.on('uncaughtException', report('uncaughtException'));
}
