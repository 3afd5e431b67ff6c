// Issue 17: the code an agent logs for a failed connect (the wire test is test/e2e/ca-bundle.test.ts).
import { describe, expect, it } from 'vitest';
import { connectFailureCode } from '../../src/link/index.js';

describe('connectFailureCode', () => {
  it('takes the code of the server’s refusal', () => {
    expect(connectFailureCode({ data: { code: 'DMR_AUTH_CERTIFICATE_UNTRUSTED' } })).toBe('DMR_AUTH_CERTIFICATE_UNTRUSTED');
    expect(connectFailureCode({ data: { code: 'DMR_AUTH_TOKEN_INVALID' } })).toBe('DMR_AUTH_TOKEN_INVALID');
  });

  it('calls a server certificate from an issuer outside DMR_TLS_CA_FILE untrusted, wherever engine.io put the cause', () => {
    const cause = Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    expect(connectFailureCode({ description: cause })).toBe('DMR_AUTH_CERTIFICATE_UNTRUSTED');
    expect(connectFailureCode({ description: { error: cause } })).toBe('DMR_AUTH_CERTIFICATE_UNTRUSTED');
    expect(connectFailureCode({ description: { error: { code: 'SELF_SIGNED_CERT_IN_CHAIN' } } })).toBe('DMR_AUTH_CERTIFICATE_UNTRUSTED');
  });

  it('gives no code for other failures or a code outside the catalog', () => {
    expect(connectFailureCode({ description: { error: { code: 'ECONNREFUSED' } } })).toBeUndefined();
    expect(connectFailureCode({ description: { error: { code: 'CERT_HAS_EXPIRED' } } })).toBeUndefined();
    expect(connectFailureCode({ data: { code: 'SOMETHING_ELSE' } })).toBeUndefined();
    expect(connectFailureCode({ description: 'websocket error' })).toBeUndefined();
  });
});
