import { DEFAULT_POLICY_WASM_FILE, loadServerConfig } from '@dmr/server';
import { describe, expect, it } from 'vitest';

const env = {
  CENTOPS_CONFIGURATION_URL: 'file:///tmp/agents.json',
  RABBITMQ_DEFAULT_HOST: 'rabbitmq',
  RABBITMQ_DEFAULT_PORT: '5672',
  RABBITMQ_DEFAULT_MANAGEMENT_UI_URI: 'http://rabbitmq:15672',
  RABBITMQ_DEFAULT_USER: 'dmr',
  RABBITMQ_DEFAULT_PASS: 'secret',
  DMR_ALLOW_PLAINTEXT: 'true',
};

const WASM_BYTES = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

/** A file system holding `present` (path → bytes); every other path is missing. */
function filesWith(present: Record<string, Buffer>) {
  return {
    readFile: (path: string): Buffer => {
      const bytes = present[path];
      if (bytes === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return bytes;
    },
  };
}

describe('DMR_POLICY_ENGINE and the engines’ settings', () => {
  it('defaults to builtin and reads no engine variable then', () => {
    const config = loadServerConfig({ ...env, DMR_OPA_URL: 'ftp://ignored', DMR_POLICY_WASM_FILE: '/nowhere.wasm' }, filesWith({}));
    expect(config.policy).toEqual({ engine: 'builtin', source: undefined });
  });

  it('reads DMR_OPA_URL, DMR_OPA_TIMEOUT_MS and DMR_OPA_CACHE_SIZE for opa, with the documented defaults', () => {
    const opa = { ...env, DMR_POLICY_ENGINE: 'opa', DMR_OPA_URL: 'http://127.0.0.1:8181' };
    expect(loadServerConfig(opa).policy).toMatchObject({
      engine: 'opa',
      opa: { url: 'http://127.0.0.1:8181', timeoutMs: 250, cacheSize: 10_000 },
    });
    const tuned = { ...opa, DMR_OPA_URL: 'https://opa.local:8443/', DMR_OPA_TIMEOUT_MS: '40', DMR_OPA_CACHE_SIZE: '0' };
    expect(loadServerConfig(tuned).policy).toMatchObject({ opa: { url: 'https://opa.local:8443/', timeoutMs: 40, cacheSize: 0 } });
  });

  it('refuses opa without DMR_OPA_URL, with a non-http(s) URL, or with bad numbers, naming the variable', () => {
    const opa = { ...env, DMR_POLICY_ENGINE: 'opa' };
    expect(() => loadServerConfig(opa)).toThrow(/DMR_OPA_URL is required with DMR_POLICY_ENGINE=opa/);
    expect(() => loadServerConfig({ ...opa, DMR_OPA_URL: 'file:///tmp/opa' })).toThrow(/DMR_OPA_URL must use http: or https:/);
    expect(() => loadServerConfig({ ...opa, DMR_OPA_URL: 'not a url' })).toThrow(/DMR_OPA_URL is not a valid URL/);
    const withUrl = { ...opa, DMR_OPA_URL: 'http://127.0.0.1:8181' };
    expect(() => loadServerConfig({ ...withUrl, DMR_OPA_TIMEOUT_MS: '0' })).toThrow(/DMR_OPA_TIMEOUT_MS must be ≥ 1/);
    expect(() => loadServerConfig({ ...withUrl, DMR_OPA_TIMEOUT_MS: 'fast' })).toThrow(/DMR_OPA_TIMEOUT_MS must be an integer/);
    expect(() => loadServerConfig({ ...withUrl, DMR_OPA_CACHE_SIZE: '-1' })).toThrow(/DMR_OPA_CACHE_SIZE must be ≥ 0/);
  });

  it('reads DMR_POLICY_WASM_FILE for opa-wasm, defaulting to the module set-up builds', () => {
    const wasm = { ...env, DMR_POLICY_ENGINE: 'opa-wasm' };
    expect(DEFAULT_POLICY_WASM_FILE).toMatch(/\/\.tools\/policy\/dmr\.wasm$/);
    expect(loadServerConfig(wasm, filesWith({ [DEFAULT_POLICY_WASM_FILE]: WASM_BYTES })).policy).toEqual({
      engine: 'opa-wasm',
      wasmFile: DEFAULT_POLICY_WASM_FILE,
      source: undefined,
    });
    const other = { ...wasm, DMR_POLICY_WASM_FILE: '/srv/policy/dmr.wasm' };
    expect(loadServerConfig(other, filesWith({ '/srv/policy/dmr.wasm': WASM_BYTES })).policy).toMatchObject({
      wasmFile: '/srv/policy/dmr.wasm',
    });
  });

  it('refuses a missing or non-wasm DMR_POLICY_WASM_FILE at start, naming the variable and the path', () => {
    const wasm = { ...env, DMR_POLICY_ENGINE: 'opa-wasm', DMR_POLICY_WASM_FILE: '/srv/policy/dmr.wasm' };
    expect(() => loadServerConfig(wasm, filesWith({}))).toThrow(/DMR_POLICY_WASM_FILE: cannot read "\/srv\/policy\/dmr\.wasm" \(ENOENT\)/);
    const text = filesWith({ '/srv/policy/dmr.wasm': Buffer.from('package dmr\n') });
    expect(() => loadServerConfig(wasm, text)).toThrow(/DMR_POLICY_WASM_FILE: "\/srv\/policy\/dmr\.wasm" is not a WebAssembly module/);
  });

  it('refuses an unknown engine name, naming DMR_POLICY_ENGINE and the choices', () => {
    expect(() => loadServerConfig({ ...env, DMR_POLICY_ENGINE: 'rego' })).toThrow(
      /DMR_POLICY_ENGINE must be one of builtin, opa, opa-wasm, got "rego"/,
    );
  });
});
