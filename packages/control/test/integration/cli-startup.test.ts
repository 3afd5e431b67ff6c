// Issue 17: dmrctl loads what the command needs. --help, --version and `cert show` must not load the CA toolkit's
// X.509 machinery (@peculiar/x509) nor the rest of @dmr/shared (jose, pino, typebox, the native addon); commands that
// sign load @peculiar/x509 and still nothing else. Measured through the module resolutions of a real dmrctl process.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa } from '../../src/index.js';
import { makeTempDir } from './helpers/temp-dir.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
// records every module URL the process resolves and prints them when it exits
const RECORD_LOADS = `data:text/javascript,${encodeURIComponent(`
import { registerHooks } from 'node:module';
const loaded = new Set();
registerHooks({ resolve(specifier, context, next) { const result = next(specifier, context); loaded.add(result.url); return result; } });
process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify([...loaded]) + '\\n'));
`)}`;
const HEAVY = ['/@peculiar/x509/', '/jose/', '/pino/', '/typebox/', '/native-ecdh/', '/shared/dist/index.js'];

/** Runs dmrctl with `args` and returns the exit code and the heavy modules it loaded. */
function loadsOf(args: readonly string[]): Promise<{ code: number; heavy: string[]; loaded: string[] }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', RECORD_LOADS, MAIN, ...args], (error, _stdout, stderr) => {
      const line = stderr.split('\n').find((text) => text.startsWith('LOADED ')) ?? 'LOADED []';
      const loaded = JSON.parse(line.slice('LOADED '.length)) as string[];
      const heavy = HEAVY.filter((part) => loaded.some((url) => url.includes(part)));
      resolve({ code: error === null ? 0 : Number(error.code), heavy, loaded });
    });
  });
}

let temp: Awaited<ReturnType<typeof makeTempDir>>;
let caDir: string;

beforeAll(async () => {
  temp = await makeTempDir('cli-startup');
  caDir = join(temp.path, 'ca');
  await initCa({ dir: caDir, commonName: 'Startup Test CA' });
  await writeFile(join(temp.path, 'not-a-cert.pem'), 'hello');
});

afterAll(async () => {
  await temp?.remove();
});

describe('dmrctl start-up loads only what the command needs', () => {
  it.each([
    [['--help']],
    [['--version']],
    [['cert', 'agent', '--help']],
    [['revoke', '--dir', 'x']],
    [['agents', 'update', '--help']],
    [['import', '--help']],
    [['export', '--help']],
    [['policy', 'test', '--help']],
  ])('%j loads neither the CA toolkit nor the rest of @dmr/shared', async (args) => {
    const run = await loadsOf(args);
    expect(run.loaded.some((url) => url.includes('commander'))).toBe(true);
    expect(run.heavy).toEqual([]);
  });

  it('an API command loads the client (node:https) but no X.509, JOSE, pino or typebox until it needs them', async () => {
    // no URL configured: the command loads its action and client, then stops at the missing setting
    const run = await loadsOf(['agents', 'list']);
    expect(run.code).toBe(2);
    expect(run.loaded.some((url) => url.endsWith('/cli/api-client/index.js'))).toBe(true);
    expect(run.heavy).toEqual([]);
  });

  it('cert show reads a certificate without @peculiar/x509', async () => {
    const run = await loadsOf(['cert', 'show', join(caDir, 'ca.cert.pem')]);
    expect(run.code).toBe(0);
    expect(run.heavy).toEqual([]);
  });

  it('a command that signs loads @peculiar/x509 and nothing else of the heavy set', async () => {
    const run = await loadsOf(['crl', '--dir', caDir]);
    expect(run.code).toBe(0);
    expect(run.heavy).toEqual(['/@peculiar/x509/']);
  });
});
