// The node:crypto JOSE fast path's strict input handling: anything that is not plain base64url or not a JSON
// object header is refused (Buffer alone would skip bad characters silently), and an unknown header member sends
// the caller back to jose. Found undetected by mutation testing (docs/testing.md).
import { describe, expect, it } from 'vitest';
import { assertOnlyKnownMembers, decodeBase64Url, decodeHeader, UnsupportedJoseFeature } from '../../src/crypto/jose-header.js';

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('decodeBase64Url', () => {
  it('decodes unpadded base64url', () => {
    expect(decodeBase64Url('aGk', 'tag').toString()).toBe('hi');
    expect(decodeBase64Url('', 'tag')).toHaveLength(0);
  });

  it.each(['aGk=', 'a+b/', 'a b', 'abcde'])('refuses %j, naming the part', (text) => {
    expect(() => decodeBase64Url(text, 'the tag')).toThrow(new Error('the tag is not base64url'));
  });
});

describe('decodeHeader', () => {
  it('returns a JSON object header', () => {
    expect(decodeHeader(encode({ alg: 'ES256' }), 'header')).toEqual({ alg: 'ES256' });
  });

  it.each([[[1]], [null], [7], ['text']])('refuses %j: a header must be a JSON object', (value) => {
    expect(() => decodeHeader(encode(value), 'the JWS header')).toThrow(new Error('the JWS header is not a JSON object'));
  });
});

describe('assertOnlyKnownMembers', () => {
  it('passes known members and names the first unknown one in an UnsupportedJoseFeature', () => {
    expect(() => assertOnlyKnownMembers({ alg: 'ES256' }, new Set(['alg', 'kid']))).not.toThrow();
    let thrown: unknown;
    try {
      assertOnlyKnownMembers({ alg: 'ES256', crit: ['b64'] }, new Set(['alg']));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UnsupportedJoseFeature);
    expect(thrown).toMatchObject({
      name: 'UnsupportedJoseFeature',
      message: 'JOSE feature not handled by the fast path: header member "crit"',
    });
  });
});
