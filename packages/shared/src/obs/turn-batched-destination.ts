import { pino } from 'pino';

/** A pino destination that can be flushed synchronously. */
export interface FlushableDestination {
  write(line: string): void;
  /** Writes every buffered line now (used at exit). */
  flushSync(): void;
}

/**
 * Log lines of one event-loop turn leave in one synchronous write, at the turn's end (`setImmediate`).
 * pino's default destination queues every write on the libuv thread pool, and at saturation that hand-off and its
 * syscalls were about a sixth of dmr-server's CPU (bench profile): every message logs its outcome. A turn carries
 * many messages under load, so they share one write; an idle process writes each line within the same turn.
 * Buffered lines are written at process exit; a kill -9 loses at most the current turn's lines.
 */
export function turnBatchedDestination(fd = 1): FlushableDestination {
  let destination = byFd.get(fd);
  if (!destination) {
    destination = create(fd);
    byFd.set(fd, destination);
  }
  return destination;
}

// one per fd and process, so every logger of a process shares the batch and the exit hook
const byFd = new Map<number, FlushableDestination>();

function create(fd: number): FlushableDestination {
  // sync: the one write per turn goes straight to the fd (sonic-boom retries EAGAIN on a non-blocking pipe)
  const target = pino.destination({ dest: fd, sync: true });
  let pending: string[] = [];
  let isScheduled = false;
  const flushSync = (): void => {
    isScheduled = false;
    if (pending.length === 0) return;
    const chunk = pending.join('');
    pending = [];
    target.write(chunk);
  };
  process.once('exit', flushSync);
  return {
    write(line: string): void {
      pending.push(line);
      if (!isScheduled) {
        isScheduled = true;
        setImmediate(flushSync);
      }
    },
    flushSync,
  };
}
