import type { PolicyDocument } from './document.js';

/** A document compiled into lookup tables; build it with `compilePolicy`. Opaque apart from these members. */
export interface CompiledPolicy {
  readonly version: number;
  readonly timeZone: string;
  readonly defaultDecision: 'allow' | 'deny';
  readonly document: PolicyDocument;
}

/** Compiles an accepted document (from `parsePolicyDocument`) for `decidePolicy`. */
export function compilePolicy(_document: PolicyDocument, _version: number): CompiledPolicy {
  throw new Error('not implemented');
}
