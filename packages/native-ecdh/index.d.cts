/** The x coordinate of d·Q: `privateScalar` is 32 bytes big-endian, `peerPoint` an uncompressed P-256 point (65 bytes). */
export declare function agreement(privateScalar: Buffer, peerPoint: Buffer): Buffer;
/** A fresh ephemeral key agreed with `peerPoint`: 97 bytes, the ephemeral public point (65) then the shared secret (32). */
export declare function ephemeralAgreement(peerPoint: Buffer): Buffer;
