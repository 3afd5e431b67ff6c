import { describe, expect, it } from 'vitest';
import {
  type CaState,
  emptyCaState,
  type IssuedRecord,
  selectForRevocation,
  serialiseCaState,
  withIssued,
  withNextCrlNumber,
  withRevoked,
} from '../../src/ca/ca-state.js';
import { parseCaState, parseRevocationReason } from '../../src/index.js';

const record = (serial: string, agentId?: string): IssuedRecord => ({
  serial,
  kind: agentId === undefined ? 'server' : 'agent',
  commonName: agentId ?? 'localhost',
  ...(agentId === undefined ? {} : { agentId }),
  issuedAt: '2025-01-01T00:00:00.000Z',
  notBefore: '2025-01-01T00:00:00.000Z',
  notAfter: '2026-02-02T00:00:00.000Z',
});

const state: CaState = [record('0a', 'a1'), record('0b', 'a1'), record('0c', 'a2'), record('0d')].reduce(withIssued, emptyCaState());
const at = new Date('2025-03-01T00:00:00Z');

describe('selectForRevocation', () => {
  it('finds one serial in any spelling', () => {
    expect(selectForRevocation(state, { serial: '0A' }).map((r) => r.serial)).toEqual(['0a']);
    expect(selectForRevocation(state, { serial: '0x000c' }).map((r) => r.serial)).toEqual(['0c']);
  });

  it('finds every unrevoked certificate of an agent', () => {
    expect(selectForRevocation(state, { agentId: 'a1' }).map((r) => r.serial)).toEqual(['0a', '0b']);
    const partly = withRevoked(state, ['0a'], 'superseded', at);
    expect(selectForRevocation(partly, { agentId: 'a1' }).map((r) => r.serial)).toEqual(['0b']);
  });

  it('refuses unknown serials and agents with DMR_CA_NOT_ISSUED', () => {
    expect(() => selectForRevocation(state, { serial: 'ff' })).toThrow(expect.objectContaining({ code: 'DMR_CA_NOT_ISSUED' }));
    expect(() => selectForRevocation(state, { agentId: 'nobody' })).toThrow(expect.objectContaining({ code: 'DMR_CA_NOT_ISSUED' }));
  });

  it('refuses to revoke twice with DMR_CA_ALREADY_REVOKED', () => {
    const revoked = withRevoked(state, ['0a', '0b'], 'keyCompromise', at);
    expect(() => selectForRevocation(revoked, { serial: '0a' })).toThrow(expect.objectContaining({ code: 'DMR_CA_ALREADY_REVOKED' }));
    expect(() => selectForRevocation(revoked, { agentId: 'a1' })).toThrow(expect.objectContaining({ code: 'DMR_CA_ALREADY_REVOKED' }));
  });
});

describe('state transitions', () => {
  it('records revocation time and reason, and counts CRL numbers', () => {
    const next = withNextCrlNumber(withNextCrlNumber(withRevoked(state, ['0c'], 'cessationOfOperation', at)));
    expect(next.revoked).toEqual([{ serial: '0c', revokedAt: '2025-03-01T00:00:00.000Z', reason: 'cessationOfOperation' }]);
    expect(next.crlNumber).toBe(2);
    expect(state.revoked).toEqual([]);
  });

  it('round-trips through JSON', () => {
    const next = withRevoked(state, ['0d'], 'unspecified', at);
    expect(parseCaState(serialiseCaState(next))).toEqual(next);
  });
});

describe('parseCaState', () => {
  it.each([
    ['not json', '{'],
    ['wrong version', '{"version":2,"crlNumber":0,"issued":[],"revoked":[]}'],
    ['negative crl number', '{"version":1,"crlNumber":-1,"issued":[],"revoked":[]}'],
    ['bad serial', JSON.stringify({ ...state, issued: [{ ...record('0a'), serial: 'XYZ' }] })],
    ['bad kind', JSON.stringify({ ...state, issued: [{ ...record('0a'), kind: 'root' }] })],
    ['bad reason', JSON.stringify({ ...state, revoked: [{ serial: '0a', revokedAt: at.toISOString(), reason: 'because' }] })],
    ['null', 'null'],
  ])('refuses %s with DMR_CA_STATE_INVALID', (_label, text) => {
    expect(() => parseCaState(text)).toThrow(expect.objectContaining({ code: 'DMR_CA_STATE_INVALID' }));
  });
});

describe('parseRevocationReason', () => {
  it('accepts the RFC 5280 names the CA supports', () => {
    expect(parseRevocationReason('keyCompromise')).toBe('keyCompromise');
  });

  it.each(['certificateHold', 'removeFromCRL', 'KeyCompromise', ''])('refuses %j', (reason) => {
    expect(() => parseRevocationReason(reason)).toThrow(expect.objectContaining({ code: 'DMR_CA_INVALID_REQUEST' }));
  });
});
