import type { EnvReader } from '@dmr/shared';

/**
 * Reads the file `path` named by `variable`; when it cannot be read, records a problem naming the variable,
 * the path and the reason (never a stack trace: issue 15, finding 18) and returns undefined.
 */
export function readConfiguredFile(
  reader: EnvReader,
  readFile: (path: string) => string,
  variable: string,
  path: string,
): string | undefined {
  try {
    return readFile(path);
  } catch (error) {
    reader.problem(`${variable}: cannot read "${path}" (${describeIoError(error)})`);
    return undefined;
  }
}

function describeIoError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file',
    EACCES: 'permission denied',
    EISDIR: 'it is a directory',
    ENOTDIR: 'a parent is not a directory',
  };
  return (code && reasons[code]) ?? (error instanceof Error ? error.message : String(error));
}
