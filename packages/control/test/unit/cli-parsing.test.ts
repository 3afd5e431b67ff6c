import { describe, expect, it } from 'vitest';
import { parseDays, parseKeyType, parseList, parseReason } from '../../src/cli/options.js';
import type { CliIo } from '../../src/cli/output.js';
import { EXIT_USAGE, runCli } from '../../src/cli/program.js';

function capture(): CliIo & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
    stdout: () => out,
    stderr: () => err,
  };
}

describe('option parsers', () => {
  it('splits and accumulates lists', () => {
    expect(parseList('a, b,,c')).toEqual(['a', 'b', 'c']);
    expect(parseList('d', ['a'])).toEqual(['a', 'd']);
    expect(() => parseList(' , ')).toThrow(/comma-separated/);
  });

  it('takes whole positive days only', () => {
    expect(parseDays('7')).toBe(7);
    for (const bad of ['0', '-1', '1.5', 'x', '']) expect(() => parseDays(bad)).toThrow(/whole number/);
  });

  it('knows key types and reasons', () => {
    expect(parseKeyType('rsa-3072')).toBe('rsa-3072');
    expect(() => parseKeyType('rsa-1024')).toThrow(/ec-p256, rsa-3072/);
    expect(parseReason('superseded')).toBe('superseded');
    expect(() => parseReason('oops')).toThrow(/keyCompromise/);
  });
});

describe('runCli', () => {
  it('prints help with exit code 0, on every level', async () => {
    for (const argv of [
      ['--help'],
      ['cert', '--help'],
      ['cert', 'agent', '--help'],
      ['ca', 'init', '--help'],
      ['revoke', '--help'],
      ['crl', '--help'],
    ]) {
      const io = capture();
      expect(await runCli(argv, io)).toBe(0);
      expect(io.stdout()).toMatch(/^Usage: dmrctl/);
    }
  });

  it.each([['--version'], ['-V']])('%s prints dmrctl, its version and the Node it runs on, exit 0', async (flag) => {
    const io = capture();
    expect(await runCli([flag], io)).toBe(0);
    expect(io.stdout()).toBe(`dmrctl 0.1.0 (node ${process.version})\n`);
  });

  it('exits 2 on usage errors without touching files', async () => {
    for (const argv of [
      ['bogus'],
      ['cert', 'agent', '--dir', '/nonexistent'],
      ['revoke', '--dir', '/nonexistent'],
      ['crl', '--dir', 'x', '--days', '0'],
    ]) {
      const io = capture();
      expect(await runCli(argv, io)).toBe(EXIT_USAGE);
      expect(io.stderr()).toMatch(/error:/);
    }
  });

  it('exits 2 with the DMR code on invalid input', async () => {
    const io = capture();
    expect(await runCli(['cert', 'agent', '--dir', '/nonexistent', '--out', '/nonexistent', '--agent-id', 'bad id'], io)).toBe(EXIT_USAGE);
    expect(io.stderr()).toMatch(/^dmrctl: DMR_CA_INVALID_REQUEST: agent id "bad id"/);
  });

  it('exits 1 with the DMR code when the CA is missing', async () => {
    const io = capture();
    expect(await runCli(['revoke', '--dir', '/nonexistent-dmr-ca', '--serial', '01'], io)).toBe(1);
    expect(io.stderr()).toMatch(/^dmrctl: DMR_CA_NOT_FOUND/);
  });
});
