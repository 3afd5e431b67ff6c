// Issue 18: the certificate lifecycle variables shared by agents and servers.
import { DEFAULT_CERT_RELOAD_INTERVAL_MS, DEFAULT_RENEW_AT_FRACTION, EnvReader, readCertLifecycle } from '@dmr/shared';

const FIFTEEN_MINUTES_MS = 900_000;

import { describe, expect, it } from 'vitest';

function read(env: Record<string, string>) {
  const reader = new EnvReader(env);
  const settings = readCertLifecycle(reader);
  reader.finish();
  return settings;
}

describe('certificate lifecycle configuration', () => {
  it('defaults: no control plane, renewal at 0.6667 of the lifetime, files re-read every 10 s', () => {
    expect(read({})).toEqual({
      control: undefined,
      renewAtFraction: DEFAULT_RENEW_AT_FRACTION,
      reloadIntervalMs: DEFAULT_CERT_RELOAD_INTERVAL_MS,
      caBundleRefreshIntervalMs: FIFTEEN_MINUTES_MS,
    });
    expect(DEFAULT_RENEW_AT_FRACTION).toBe(0.6667);
  });

  it('reads the control URL (trailing slashes dropped), its CA file, the fraction and the interval', () => {
    expect(
      read({
        DMR_CONTROL_URL: 'https://control.example.ee:8094/',
        DMR_CONTROL_CA_FILE: '/etc/dmr/control-ca.pem',
        DMR_CERT_RENEW_AT_FRACTION: '0.5',
        DMR_CERT_RELOAD_INTERVAL_MS: '250',
        DMR_CA_BUNDLE_REFRESH_INTERVAL_MS: '60000',
      }),
    ).toEqual({
      control: { url: 'https://control.example.ee:8094', caFile: '/etc/dmr/control-ca.pem' },
      renewAtFraction: 0.5,
      reloadIntervalMs: 250,
      caBundleRefreshIntervalMs: 60_000,
    });
  });

  it.each(['0.1', '0.95', '.75', '0.6667'])('accepts the fraction %s', (value) => {
    expect(read({ DMR_CERT_RENEW_AT_FRACTION: value }).renewAtFraction).toBe(Number(value));
  });

  it.each(['0.09', '0.96', '1', '0', '-0.5', 'two thirds', '2/3', '0.5.1', '.', '1e-1'])(
    'refuses the fraction %s naming the variable',
    (value) => {
      expect(() => read({ DMR_CERT_RENEW_AT_FRACTION: value })).toThrow(
        new RegExp(
          `DMR_CERT_RENEW_AT_FRACTION must be a decimal from 0.1 to 0.95 .*got "${value.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}"`,
        ),
      );
    },
  );

  it('refuses a plain-http control URL (the token and the renewal need TLS); a CA file alone is no renewal', () => {
    expect(() => read({ DMR_CONTROL_URL: 'http://control:8094' })).toThrow(/DMR_CONTROL_URL must use https:/);
    expect(() => read({ DMR_CONTROL_URL: 'not a url' })).toThrow(/DMR_CONTROL_URL is not a valid URL/);
    expect(read({ DMR_CONTROL_CA_FILE: '/ca.pem' }).control).toBeUndefined();
  });

  it('takes 0 (no timer) as the CA bundle refresh interval and refuses 1–999 ms and more than a day, naming the variable', () => {
    expect(read({ DMR_CA_BUNDLE_REFRESH_INTERVAL_MS: '0' }).caBundleRefreshIntervalMs).toBe(0);
    expect(() => read({ DMR_CA_BUNDLE_REFRESH_INTERVAL_MS: '500' })).toThrow(
      /DMR_CA_BUNDLE_REFRESH_INTERVAL_MS must be 0 \(off\) or at least 1000/,
    );
    expect(() => read({ DMR_CA_BUNDLE_REFRESH_INTERVAL_MS: '86400001' })).toThrow(/DMR_CA_BUNDLE_REFRESH_INTERVAL_MS/);
  });

  it('refuses a reload interval below 100 ms', () => {
    expect(() => read({ DMR_CERT_RELOAD_INTERVAL_MS: '50' })).toThrow(/DMR_CERT_RELOAD_INTERVAL_MS must be ≥ 100/);
  });
});
