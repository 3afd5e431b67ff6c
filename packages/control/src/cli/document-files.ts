// Reading and writing the YAML or JSON documents dmrctl carries (export/import, policies). Loaded only by the commands
// that need it: the yaml package is not part of dmrctl's start-up.
import { constants } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DmrError } from '@dmr/shared/base';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { readInputFile } from './output.js';

/** The formats of a document file. */
export type DocumentFormat = 'yaml' | 'json';

/** The format a file name implies: `.json` is JSON, anything else YAML (which also reads JSON). */
export function formatOfPath(path: string): DocumentFormat {
  return path.toLowerCase().endsWith('.json') ? 'json' : 'yaml';
}

/**
 * Parses document text. YAML 1.2 (no `yes`/`no` booleans), duplicate keys refused, aliases capped by the library.
 * Throws `DMR_CLI_DOCUMENT_INVALID` naming `origin` and where the text breaks.
 */
export function parseDocument(text: string, format: DocumentFormat, origin: string): unknown {
  try {
    return format === 'json' ? JSON.parse(text) : parseYaml(text, { version: '1.2', uniqueKeys: true, prettyErrors: true });
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    throw new DmrError('DMR_CLI_DOCUMENT_INVALID', `${origin} is not valid ${format.toUpperCase()}: ${reason}`, { cause: error });
  }
}

/** Reads and parses a document file (format from its name). */
export async function readDocumentFile(path: string): Promise<{ value: unknown; bytes: number }> {
  const text = await readInputFile(path);
  return { value: parseDocument(text, formatOfPath(path), path), bytes: Buffer.byteLength(text) };
}

/** Serialises a document: JSON indented by 2, or YAML with PEM text as block scalars and no line folding. */
export function serialiseDocument(value: unknown, format: DocumentFormat): string {
  if (format === 'json') return `${JSON.stringify(value, null, 2)}\n`;
  return stringifyYaml(value, { version: '1.2', lineWidth: 0, blockQuote: 'literal' });
}

/**
 * Writes `text` to `path` (mode 0600: a registry names people and institutions) through a temporary file and a rename,
 * so a reader never sees half a document. Refuses to replace an existing file unless `overwrite`.
 */
export async function writeDocumentFile(path: string, text: string, overwrite: boolean): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    if (!overwrite) await assertAbsent(path);
    const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    if (error instanceof DmrError) throw error;
    throw new DmrError('DMR_CA_IO_FAILED', `cannot write ${path}: ${(error as Error).message}`, { cause: error });
  }
}

async function assertAbsent(path: string): Promise<void> {
  try {
    const existing = await open(path, constants.O_RDONLY);
    await existing.close();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  throw new DmrError('DMR_CA_FILE_EXISTS', `${path} exists: pass --force to replace it`);
}
