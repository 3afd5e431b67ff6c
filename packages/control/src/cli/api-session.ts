// What every API command does around its work: connect with the admin certificate, run, close; print in the chosen
// format. Loaded only when an API command runs.
import { type ControlClient, createControlClient, openTransport, resolveConnection } from './api-client/index.js';
import type { ApiFlags, OutputFormat } from './api-options.js';
import type { CliContext, CliIo } from './output.js';

/** Resolves the connection from flags and environment, runs `work` with a client, and always closes it. */
export async function withControlClient<T>(context: CliContext, flags: ApiFlags, work: (client: ControlClient) => Promise<T>): Promise<T> {
  const settings = resolveConnection(flags, context.env);
  const client = createControlClient(await openTransport(settings, context.signal));
  try {
    return await work(client);
  } finally {
    client.close();
  }
}

/** Prints `value` as indented JSON, or the table text `table()` builds. */
export function emit(io: CliIo, format: OutputFormat, value: unknown, table: () => string): void {
  io.out(format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : table());
}

/** Progress on stderr for lists that take more than one page: `fetched 2000 agents…`. */
export function pageProgress(io: CliIo, noun: string, pageSize: number): (fetched: number) => void {
  return (fetched) => {
    if (fetched >= pageSize) io.err(`dmrctl: fetched ${fetched} ${noun}…\n`);
  };
}
