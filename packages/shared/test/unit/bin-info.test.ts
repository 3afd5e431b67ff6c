import { binArgsOutcome, versionLine } from '@dmr/shared';
import { describe, expect, it } from 'vitest';

const info = { name: 'dmr-x', version: '1.2.3', help: 'Usage: dmr-x' };

describe('binArgsOutcome (--help / --version of the env-configured deployables)', () => {
  it('runs the deployable when there are no arguments', () => {
    expect(binArgsOutcome([], info)).toEqual({ kind: 'run' });
  });

  it.each(['--version', '-V'])('%s prints name, DMR version and Node version, exit 0', (flag) => {
    expect(binArgsOutcome([flag], info, 'v24.22.3')).toEqual({
      kind: 'exit',
      exitCode: 0,
      stdout: 'dmr-x 1.2.3 (node v24.22.3)\n',
      stderr: '',
    });
  });

  it.each(['--help', '-h'])('%s prints the help with a final newline, exit 0', (flag) => {
    expect(binArgsOutcome([flag], info)).toEqual({ kind: 'exit', exitCode: 0, stdout: 'Usage: dmr-x\n', stderr: '' });
  });

  it.each([[['--port=1']], [['serve']], [['--help', '--version']]])('refuses %j with exit 2, naming it', (argv) => {
    const outcome = binArgsOutcome(argv, info);
    expect(outcome.kind).toBe('exit');
    if (outcome.kind !== 'exit') return;
    expect(outcome.exitCode).toBe(2);
    expect(outcome.stdout).toBe('');
    for (const arg of argv) expect(outcome.stderr).toContain(JSON.stringify(arg));
    expect(outcome.stderr).toContain('environment variables only');
  });

  it('versionLine defaults to the running Node', () => {
    expect(versionLine('dmr-x', '1.2.3')).toBe(`dmr-x 1.2.3 (node ${process.version})`);
  });
});
