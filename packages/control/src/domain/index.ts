// The control plane's pure core: no I/O, no clock, no database.

export { canonicalJson, canonicalSha256 } from './canonical-json.js';
export { compareCodePoints } from './code-point-order.js';
export { type CursorKey, type CursorOutcome, decodeCursor, encodeCursor } from './list-cursor.js';
export { findUnstorableText, isStorableText, toStorableText } from './stored-text.js';
export { hashEnrollmentToken, isSha256Hex } from './token-hash.js';
