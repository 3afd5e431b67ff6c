import { describe, expect, it } from 'vitest';
import {
  ControlApiError,
  DEFAULT_TIMEOUT_MS,
  errorFromResponse,
  etagOf,
  formatApiError,
  isRevisionConflict,
  parseBaseUrl,
  recordOf,
  requestUrl,
  resolveConnection,
  transportError,
} from '../../src/cli/api-client/index.js';

const env = {
  DMR_CONTROL_URL: 'https://control.test:8094',
  DMR_CONTROL_CERT_FILE: '/env/admin.cert.pem',
  DMR_CONTROL_KEY_FILE: '/env/admin.key.pem',
  DMR_CONTROL_CA_FILE: '/env/ca.pem',
};

function configError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect((error as { code?: string }).code).toBe('DMR_CONFIG_INVALID');
    return (error as Error).message;
  }
  throw new Error('expected DMR_CONFIG_INVALID');
}

describe('resolveConnection', () => {
  it('reads the environment', () => {
    const settings = resolveConnection({}, env);
    expect(settings.baseUrl.href).toBe('https://control.test:8094/');
    expect(settings).toMatchObject({ certFile: '/env/admin.cert.pem', keyFile: '/env/admin.key.pem', caFile: '/env/ca.pem' });
    expect(settings.timeoutMs).toBe(DEFAULT_TIMEOUT_MS);
  });

  it('lets each flag win over its variable', () => {
    const settings = resolveConnection({ url: 'https://other:1/prefix', cert: 'c', key: 'k', ca: 'a', timeoutMs: 5 }, env);
    expect(settings).toMatchObject({ certFile: 'c', keyFile: 'k', caFile: 'a', timeoutMs: 5 });
    expect(settings.baseUrl.href).toBe('https://other:1/prefix/');
  });

  it('works without a CA file (Node roots) but never without certificate, key or URL', () => {
    const { DMR_CONTROL_CA_FILE: _ca, ...withoutCa } = env;
    expect(resolveConnection({}, withoutCa).caFile).toBeUndefined();
    expect(configError(() => resolveConnection({}, { ...env, DMR_CONTROL_URL: '' }))).toMatch(/--url or DMR_CONTROL_URL is required/);
    expect(configError(() => resolveConnection({}, { ...env, DMR_CONTROL_CERT_FILE: undefined }))).toMatch(
      /--cert or DMR_CONTROL_CERT_FILE is required/,
    );
    expect(configError(() => resolveConnection({}, { ...env, DMR_CONTROL_KEY_FILE: ' ' }))).toMatch(/--key or DMR_CONTROL_KEY_FILE/);
  });
});

describe('parseBaseUrl', () => {
  it('keeps a path prefix and adds the trailing slash', () => {
    expect(parseBaseUrl('https://proxy.test/dmr-control').href).toBe('https://proxy.test/dmr-control/');
    expect(parseBaseUrl('https://[::1]:8094/').href).toBe('https://[::1]:8094/');
  });

  it('refuses http, credentials, queries and non-URLs, naming the variable', () => {
    expect(configError(() => parseBaseUrl('http://control.test'))).toMatch(/DMR_CONTROL_URL must be https:\/\/ .*got http:\/\//);
    expect(configError(() => parseBaseUrl('https://u:p@control.test'))).toMatch(/user name or password/);
    expect(configError(() => parseBaseUrl('https://control.test/?x=1'))).toMatch(/query or fragment/);
    expect(configError(() => parseBaseUrl('control.test'))).toMatch(/is not a URL/);
  });
});

describe('requestUrl', () => {
  it('resolves below the base and adds the defined query values', () => {
    const base = parseBaseUrl('https://proxy.test/dmr');
    expect(requestUrl(base, 'v1/agents', { limit: 10, cursor: undefined, dryRun: true }).href).toBe(
      'https://proxy.test/dmr/v1/agents?limit=10&dryRun=true',
    );
    expect(requestUrl(base, '/v1/x').href).toBe('https://proxy.test/dmr/v1/x');
  });
});

describe('API errors', () => {
  it('keeps the code, status, message and field of an error body', () => {
    const error = errorFromResponse(
      403,
      JSON.stringify({ statusCode: 403, code: 'DMR_CONTROL_ROLE_FORBIDDEN', message: 'auditor may not', field: 'x' }),
    );
    expect(error).toBeInstanceOf(ControlApiError);
    expect(formatApiError(error as ControlApiError)).toBe('DMR_CONTROL_ROLE_FORBIDDEN: auditor may not (HTTP 403)\n  field: x');
  });

  it('reports a body without a code as an invalid response, quoting its start on one line', () => {
    const error = errorFromResponse(502, `<html>\n<body>${'x'.repeat(300)}</body>`);
    expect((error as { code?: string }).code).toBe('DMR_CLI_API_RESPONSE_INVALID');
    expect(error.message).toMatch(/^HTTP 502 without an error code: <html> <body>x+…$/);
    expect(errorFromResponse(500, '').message).toBe('HTTP 500 without an error code: (empty body)');
  });

  it('knows a revision conflict by status or by code', () => {
    expect(isRevisionConflict(new ControlApiError(412, 'ANY', 'm'))).toBe(true);
    expect(isRevisionConflict(new ControlApiError(409, 'DMR_CONTROL_REVISION_MISMATCH', 'm'))).toBe(true);
    expect(isRevisionConflict(new ControlApiError(409, 'DMR_CONTROL_ALREADY_EXISTS', 'm'))).toBe(false);
    expect(isRevisionConflict(new Error('412'))).toBe(false);
  });
});

describe('transportError', () => {
  const url = new URL('https://control.test:8094/v1/agents');
  const fail = (code: string, message = code) => Object.assign(new Error(message), { code });

  it('names an untrusted server certificate and the flag that fixes it', () => {
    const error = transportError(url, fail('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'), 1000);
    expect(error.code).toBe('DMR_CLI_API_UNREACHABLE');
    expect(error.message).toMatch(/certificate at https:\/\/control.test:8094 is not trusted.*--ca or DMR_CONTROL_CA_FILE/);
  });

  it('names a host name mismatch, a refused handshake, a refused connection and a timeout', () => {
    expect(transportError(url, fail('ERR_TLS_CERT_ALTNAME_INVALID'), 1).message).toMatch(/does not name control.test/);
    expect(transportError(url, fail('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'), 1).message).toMatch(/refused the TLS handshake.*--cert/);
    expect(transportError(url, fail('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:8094'), 1).message).toBe(
      'cannot reach https://control.test:8094: connect ECONNREFUSED 127.0.0.1:8094',
    );
    const timeout = Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' });
    expect(transportError(url, timeout, 1500).message).toBe(
      'no answer from https://control.test:8094/v1/agents within 1500 ms (--timeout-ms)',
    );
  });

  it('says interrupted when the caller aborted', () => {
    const controller = new AbortController();
    controller.abort();
    const error = transportError(url, new Error('aborted'), 1, controller.signal);
    expect(error.code).toBe('DMR_LIFECYCLE_SHUTTING_DOWN');
  });
});

describe('responses', () => {
  it('reads a JSON object, and nothing for 204', () => {
    expect(recordOf({ statusCode: 200, headers: {}, text: '{"a":1}' })).toEqual({ a: 1 });
    expect(recordOf({ statusCode: 204, headers: {}, text: '' })).toEqual({});
  });

  it('refuses what is not a JSON object', () => {
    for (const text of ['[1]', 'nope', '"s"']) {
      expect(() => recordOf({ statusCode: 200, headers: {}, text })).toThrow(/expected (JSON|a JSON object), got HTTP 200/);
    }
  });

  it('writes ETags as quoted revisions', () => {
    expect(etagOf(7)).toBe('"7"');
  });
});
