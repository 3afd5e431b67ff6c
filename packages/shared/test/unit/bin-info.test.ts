import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { binArgsOutcome, handleBinArgs, readPackageVersion, versionLine } from '@dmr/shared';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';

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

describe('binArgsOutcome: exact texts and edges', () => {
  it('keeps a help text that already ends with a newline as it is', () => {
    expect(binArgsOutcome(['--help'], { ...info, help: 'Usage: dmr-x\n' })).toMatchObject({ stdout: 'Usage: dmr-x\n' });
  });

  it('prints the Node it runs on when no version is given', () => {
    expect(binArgsOutcome(['--version'], info)).toMatchObject({ stdout: `dmr-x 1.2.3 (node ${process.version})\n` });
  });

  it('names one bad argument in the singular and several in the plural, with the whole hint', () => {
    const hint = 'it is configured by environment variables only (--help lists them; --version prints the version)\n';
    expect(binArgsOutcome(['serve'], info)).toEqual({
      kind: 'exit',
      exitCode: 2,
      stdout: '',
      stderr: `dmr-x: unexpected argument "serve": ${hint}`,
    });
    expect(binArgsOutcome(['-V', 'x'], info)).toEqual({
      kind: 'exit',
      exitCode: 2,
      stdout: '',
      stderr: `dmr-x: unexpected arguments "-V" "x": ${hint}`,
    });
    expect(binArgsOutcome(['-h', '-h'], info)).toMatchObject({ exitCode: 2 });
  });
});

describe('readPackageVersion', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmr-bin-info-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string): URL => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return pathToFileURL(path);
  };

  it('reads the version of a package.json', () => {
    expect(readPackageVersion(file('ok.json', '{"name":"x","version":"0.3.0"}'))).toBe('0.3.0');
  });

  it.each([
    ['no-version.json', '{"name":"x"}'],
    ['number.json', '{"version":3}'],
    ['null.json', 'null'],
    ['string.json', '"0.3.0"'],
  ])('refuses %s, naming the file', (name, text) => {
    const url = file(name, text);
    expect(() => readPackageVersion(url)).toThrow(`${url.pathname} has no version`);
  });
});

describe('handleBinArgs (this process: output and exit code)', () => {
  afterEach(() => vi.restoreAllMocks());

  function capture() {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => out.push(String(chunk)) > 0);
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => err.push(String(chunk)) > 0);
    const exit = vi.spyOn(process, 'exit').mockImplementation(() => undefined as never);
    return { out, err, exit };
  }

  it('returns without a word when the deployable should run', () => {
    const { out, err, exit } = capture();
    handleBinArgs(info, []);
    expect([out, err, exit.mock.calls]).toEqual([[], [], []]);
  });

  it('prints the version to stdout and exits 0; a bad argument goes to stderr with exit 2', () => {
    const { out, err, exit } = capture();
    handleBinArgs(info, ['--version']);
    expect(out.join('')).toBe(`dmr-x 1.2.3 (node ${process.version})\n`);
    expect(exit.mock.calls).toEqual([[0]]);
    handleBinArgs(info, ['--nope']);
    expect(err.join('')).toContain('dmr-x: unexpected argument "--nope"');
    expect(exit.mock.calls).toEqual([[0], [2]]);
  });
});
