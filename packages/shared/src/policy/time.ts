import type { PolicyTime } from './types.js';

/** The input's `time` for `unixMs` in the IANA `timeZone`. */
export function policyTime(_unixMs: number, _timeZone: string): PolicyTime {
  throw new Error('not implemented');
}
