// Issue 17: the bins exist and work after the README's set-up, from node_modules/.bin, on Node >= 24 even when the
// caller's PATH holds an older Node (the launcher in packages/*/bin picks the provisioned one).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BINS, nodeMajorOfVersionLine, runBin } from '../support/bins.js';

const root = resolve(import.meta.dirname, '../..');

function packageVersion(packageDir: string): string {
  return (JSON.parse(readFileSync(join(root, packageDir, 'package.json'), 'utf8')) as { version: string }).version;
}

describe.each(BINS)('$name from node_modules/.bin', ({ name, packageDir }) => {
  it('--version prints the DMR version and a Node >= 24 it runs on, exit 0', () => {
    const run = runBin(root, name, ['--version']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(nodeMajorOfVersionLine(run.stdout, name, packageVersion(packageDir))).toBeGreaterThanOrEqual(24);
  });

  it('--help prints the usage, exit 0', () => {
    const run = runBin(root, name, ['--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Usage: ${name}`);
  });
});

describe.each(BINS.filter((bin) => bin.name !== 'dmrctl'))(
  '$name (configured by environment only)',
  ({ name, packageDir, mainVariable }) => {
    it('--help lists the main variables and points to the package README', () => {
      const run = runBin(root, name, ['--help']);
      expect(run.stdout).toContain(mainVariable);
      expect(run.stdout).toContain(`${packageDir}/README.md`);
    });

    it('refuses any other argument with exit 2 instead of ignoring it', () => {
      const run = runBin(root, name, ['--port', '8080']);
      expect(run.status).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(`${name}: unexpected arguments "--port" "8080"`);
    });
  },
);
