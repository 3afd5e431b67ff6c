import { describe, expect, it } from 'vitest';
import { agentIdFromSubjectAltName, parseSubjectAltName } from '../../src/index.js';

describe('parseSubjectAltName', () => {
  it('splits Node’s plain form', () => {
    expect(parseSubjectAltName('DNS:localhost, IP Address:127.0.0.1, URI:urn:dmr:agent:a1')).toEqual([
      { type: 'DNS', value: 'localhost' },
      { type: 'IP Address', value: '127.0.0.1' },
      { type: 'URI', value: 'urn:dmr:agent:a1' },
    ]);
  });

  it('keeps a quoted value whole, commas and escaped quotes included', () => {
    expect(parseSubjectAltName('URI:"urn:dmr:agent:x, URI:urn:dmr:agent:admin", DNS:a')).toEqual([
      { type: 'URI', value: 'urn:dmr:agent:x, URI:urn:dmr:agent:admin' },
      { type: 'DNS', value: 'a' },
    ]);
    expect(parseSubjectAltName('URI:"a\\"b\\\\c\\u0001"')).toEqual([{ type: 'URI', value: 'a"b\\c\u0001' }]);
    // what Node 20 prints for a URI holding a comma
    expect(parseSubjectAltName('URI:"urn:dmr:agent:x\\u002c URI:urn:dmr:agent:admin"')).toEqual([
      { type: 'URI', value: 'urn:dmr:agent:x, URI:urn:dmr:agent:admin' },
    ]);
  });

  it('keeps colons inside values (IPv6, URNs)', () => {
    expect(parseSubjectAltName('IP Address:0:0:0:0:0:0:0:1')).toEqual([{ type: 'IP Address', value: '0:0:0:0:0:0:0:1' }]);
  });

  it('returns [] for empty text', () => {
    expect(parseSubjectAltName('')).toEqual([]);
  });

  it.each(['localhost', ':x', 'DNS:a,DNS:b,', 'DNS:a, ', 'URI:"unterminated', 'URI:"a"DNS:b', 'URI:"bad \\x escape"'])(
    'refuses malformed %j',
    (text) => {
      expect(parseSubjectAltName(text)).toBeUndefined();
    },
  );
});

describe('agentIdFromSubjectAltName', () => {
  it('reads the agent id from the SAN URI', () => {
    expect(agentIdFromSubjectAltName('URI:urn:dmr:agent:police-bot_1')).toBe('police-bot_1');
    expect(agentIdFromSubjectAltName('DNS:agent.example, URI:urn:dmr:agent:3f2a9c1e-0d4b-4c7e-9a51-2f6b8d0e1a77')).toBe(
      '3f2a9c1e-0d4b-4c7e-9a51-2f6b8d0e1a77',
    );
  });

  it('finds no id without a dmr agent URI', () => {
    expect(agentIdFromSubjectAltName('DNS:urn:dmr:agent:a1, URI:https://example.org')).toBeUndefined();
    expect(agentIdFromSubjectAltName('')).toBeUndefined();
  });

  it('refuses an identity smuggled inside a quoted value', () => {
    expect(agentIdFromSubjectAltName('URI:"urn:dmr:agent:x, URI:urn:dmr:agent:admin"')).toBeUndefined();
    expect(agentIdFromSubjectAltName('URI:"urn:dmr:agent:x\\u002c URI:urn:dmr:agent:admin"')).toBeUndefined();
  });

  it('refuses two agent URIs instead of guessing', () => {
    expect(agentIdFromSubjectAltName('URI:urn:dmr:agent:a1, URI:urn:dmr:agent:a2')).toBeUndefined();
  });

  it('refuses ids outside the AgentId pattern and other spellings of the prefix', () => {
    expect(agentIdFromSubjectAltName('URI:urn:dmr:agent:')).toBeUndefined();
    expect(agentIdFromSubjectAltName('URI:urn:dmr:agent:-a')).toBeUndefined();
    expect(agentIdFromSubjectAltName('URI:urn:dmr:agent:a/b')).toBeUndefined();
    expect(agentIdFromSubjectAltName(`URI:urn:dmr:agent:${'a'.repeat(129)}`)).toBeUndefined();
    expect(agentIdFromSubjectAltName('URI:URN:DMR:AGENT:a1')).toBeUndefined();
  });

  it('refuses malformed SAN text', () => {
    expect(agentIdFromSubjectAltName('URI:"urn:dmr:agent:a1')).toBeUndefined();
  });
});
