import type { MigrationReport, QueueResult, QueueSurvey } from './migration.js';
import type { MoveCounts } from './queue-mover.js';

/** Messages per second, rounded; 0 for an instant. Pure. */
export function ratePerSecond(messages: number, durationMs: number): number {
  return durationMs > 0 ? Math.round((messages * 1000) / durationMs) : 0;
}

function settled(counts: MoveCounts): number {
  return counts.moved + counts.deadLetters + counts.invalid;
}

/** One progress line for a queue being moved. Pure. */
export function formatProgress(survey: QueueSurvey, counts: MoveCounts, elapsedMs: number): string {
  const done = settled(counts);
  return `  ${survey.source} → ${survey.destination}: ${done} of ~${survey.messages} (${ratePerSecond(done, elapsedMs)} msg/s)\n`;
}

/** The dry-run table: what each source holds and whether a move would be refused. Pure. */
export function formatSurvey(surveys: readonly QueueSurvey[]): string {
  const lines = surveys.map((survey) => {
    if (!survey.exists) return `  ${survey.source.padEnd(48)}  (no such queue)\n`;
    const state = survey.consumers > 0 ? `  REFUSED: ${survey.consumers} consumer(s)` : '';
    return `  ${survey.source.padEnd(48)}  ${String(survey.messages).padStart(8)} → ${survey.destination}${state}\n`;
  });
  const total = surveys.reduce((sum, survey) => sum + survey.messages, 0);
  return `dry run: nothing moved\n${lines.join('')}  total ${total} message(s) waiting\n`;
}

/** Totals over every moved queue. Pure. */
export function totalsOf(results: readonly QueueResult[]): MoveCounts & { durationMs: number } {
  return results.reduce(
    (sum, result) => ({
      moved: sum.moved + result.counts.moved,
      deadLetters: sum.deadLetters + result.counts.deadLetters,
      invalid: sum.invalid + result.counts.invalid,
      durationMs: sum.durationMs + result.durationMs,
    }),
    { moved: 0, deadLetters: 0, invalid: 0, durationMs: 0 },
  );
}

/** The summary after a move: one line per queue, totals, the rate, and what was left behind. Pure. */
export function formatSummary(report: MigrationReport): string {
  const lines = report.results.map((result) => {
    const counts = `${result.counts.moved} moved, ${result.counts.deadLetters} dead letters, ${result.counts.invalid} invalid`;
    const rate = `${(result.durationMs / 1000).toFixed(1)} s, ${ratePerSecond(settled(result.counts), result.durationMs)} msg/s`;
    const left = result.leftInSource === undefined ? 'left: unknown' : `left ${result.leftInSource}`;
    const error = result.error ? `  FAILED ${result.error.code}: ${result.error.message}` : '';
    return `  ${result.source} → ${result.destination}: ${counts} (${rate}; ${left})${error}\n`;
  });
  const totals = totalsOf(report.results);
  const all = settled(totals);
  const missing = report.surveys.filter((survey) => !survey.exists).map((survey) => survey.source);
  const skipped = missing.length > 0 ? `  no such queue (skipped): ${missing.join(', ')}\n` : '';
  const state = report.isAborted ? 'interrupted' : report.results.some((result) => result.error) ? 'failed' : 'done';
  return (
    `move ${state}\n${lines.join('')}${skipped}` +
    `  total ${all} message(s): ${totals.moved} to inboxes, ${totals.deadLetters} dead letters and ${totals.invalid} invalid to DLQs, ` +
    `${(totals.durationMs / 1000).toFixed(1)} s, ${ratePerSecond(all, totals.durationMs)} msg/s\n`
  );
}
