// Runs the project's bins as a user's shell does: from node_modules/.bin, with a PATH that does not hold the
// provisioned Node (so the launcher, not the test's PATH, has to pick Node >= 24).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** The bins, the package whose version each reports, and a variable the help of an env-configured one must list. */
export const BINS = [
  { name: 'dmr-server', packageDir: 'packages/server', mainVariable: 'DMR_ALLOW_PLAINTEXT' },
  { name: 'dmr-agent', packageDir: 'packages/agent', mainVariable: 'DMR_ALLOW_PLAINTEXT' },
  { name: 'dmr-control', packageDir: 'packages/control', mainVariable: 'DMR_CONTROL_DATABASE_URL' },
  { name: 'dmrctl', packageDir: 'packages/control', mainVariable: undefined },
] as const;

/** PATH without any `.tools/node/bin` entry (what a fresh shell has before set-up touches it). */
export function pathWithoutProvisionedNode(path: string = process.env.PATH ?? ''): string {
  return path
    .split(':')
    .filter((entry) => !entry.endsWith('/.tools/node/bin'))
    .join(':');
}

/** Exit code and output of `<root>/node_modules/.bin/<name> ...args`. */
export function runBin(root: string, name: string, args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(join(root, 'node_modules/.bin', name), args, {
    cwd: root,
    env: { PATH: pathWithoutProvisionedNode(), HOME: process.env.HOME ?? '/root' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The Node major in a `--version` line `name x.y.z (node vN.m.p)`, checking the shape and the DMR version. */
export function nodeMajorOfVersionLine(line: string, name: string, version: string): number {
  const match = new RegExp(`^${name} ${version.replaceAll('.', '\\.')} \\(node v(\\d+)\\.\\d+\\.\\d+\\)\\n$`).exec(line);
  if (!match) throw new Error(`${name} --version printed ${JSON.stringify(line)}, not "${name} ${version} (node vN.N.N)"`);
  return Number(match[1]);
}
