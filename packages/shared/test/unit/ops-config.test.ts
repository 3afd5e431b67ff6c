import { EnvReader, matchOpsRequest, readOpsListener } from '@dmr/shared';
import { describe, expect, it } from 'vitest';

/** Reads the ops settings from `env` as a deployable with `PORT=mainPort` does; returns the config or the error text. */
function read(env: Record<string, string>, mainPort = 5000) {
  const reader = new EnvReader(env);
  const config = readOpsListener(reader, mainPort);
  try {
    reader.finish();
    return { config };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

describe('DMR_OPS_HOST and DMR_OPS_PORT', () => {
  it('opens no ops listener unless DMR_OPS_PORT is set', () => {
    expect(read({})).toEqual({ config: undefined });
    expect(read({ DMR_OPS_PORT: '  ' })).toEqual({ config: undefined });
  });

  it('binds loopback by default, and the host given otherwise', () => {
    expect(read({ DMR_OPS_PORT: '9464' })).toEqual({ config: { host: '127.0.0.1', port: 9464 } });
    expect(read({ DMR_OPS_PORT: '9464', DMR_OPS_HOST: '0.0.0.0' })).toEqual({ config: { host: '0.0.0.0', port: 9464 } });
    expect(read({ DMR_OPS_PORT: '9464', DMR_OPS_HOST: '::' })).toEqual({ config: { host: '::', port: 9464 } });
    expect(read({ DMR_OPS_PORT: '9464', DMR_OPS_HOST: 'ops.dmr-0.svc' })).toEqual({ config: { host: 'ops.dmr-0.svc', port: 9464 } });
  });

  it('accepts 0 (a free port) and the port bounds', () => {
    expect(read({ DMR_OPS_PORT: '0' })).toEqual({ config: { host: '127.0.0.1', port: 0 } });
    expect(read({ DMR_OPS_PORT: '65535' }).config?.port).toBe(65535);
    // PORT=0 picks a free port, so it can never be the same as a fixed ops port
    expect(read({ DMR_OPS_PORT: '0' }, 0).config?.port).toBe(0);
  });

  it.each([
    [{ DMR_OPS_PORT: 'metrics' }, 'DMR_OPS_PORT must be an integer, got "metrics"'],
    [{ DMR_OPS_PORT: '65536' }, 'DMR_OPS_PORT must be ≤ 65535, got 65536'],
    [{ DMR_OPS_PORT: '-1' }, 'DMR_OPS_PORT must be ≥ 0, got -1'],
    [{ DMR_OPS_PORT: '5000' }, 'DMR_OPS_PORT (5000) must differ from PORT'],
    [{ DMR_OPS_PORT: '9464', DMR_OPS_HOST: 'not a host' }, 'DMR_OPS_HOST must be an IP address or a host name, got "not a host"'],
    [{ DMR_OPS_PORT: '9464', DMR_OPS_HOST: 'http://127.0.0.1' }, 'DMR_OPS_HOST must be an IP address or a host name'],
    [{ DMR_OPS_HOST: '0.0.0.0' }, 'DMR_OPS_HOST is set but DMR_OPS_PORT is not'],
  ])('refuses %j naming the variable', (env, message) => {
    const result = read(env);
    expect(result.config).toBeUndefined();
    expect(result.error).toContain(message);
  });
});

describe('ops listener routes', () => {
  it('serves GET and HEAD of exactly /v1/health, /v1/ready and /metrics', () => {
    expect(matchOpsRequest('GET', '/v1/health')).toEqual({ ok: true, route: '/v1/health', isHead: false });
    expect(matchOpsRequest('GET', '/v1/ready')).toEqual({ ok: true, route: '/v1/ready', isHead: false });
    expect(matchOpsRequest('HEAD', '/metrics')).toEqual({ ok: true, route: '/metrics', isHead: true });
    expect(matchOpsRequest('GET', '/metrics?name[]=dmr_broker_connected')).toEqual({ ok: true, route: '/metrics', isHead: false });
  });

  it.each([
    ['POST', '/v1/messages'],
    ['GET', '/v1/messages'],
    ['POST', '/metrics'],
    ['PUT', '/v1/ready'],
    ['OPTIONS', '/v1/health'],
    ['GET', '/'],
    ['GET', '/metrics/'],
    ['GET', '//metrics'],
    ['GET', '/V1/HEALTH'],
    ['GET', '/v1/openapi.json'],
    ['GET', '/socket.io/?EIO=4&transport=polling'],
    ['GET', undefined],
    [undefined, '/metrics'],
  ])('serves nothing for %s %s', (method, url) => {
    expect(matchOpsRequest(method, url)).toEqual({ ok: false });
  });
});
