/** The x coordinate of d·Q: `privateScalar` is 32 bytes big-endian, `peerPoint` an uncompressed P-256 point (65 bytes). */
export declare function agreement(privateScalar: Buffer, peerPoint: Buffer): Buffer;
/** A fresh ephemeral key agreed with `peerPoint`: 97 bytes, the ephemeral public point (65) then the shared secret (32). */
export declare function ephemeralAgreement(peerPoint: Buffer): Buffer;
/** ES256: ECDSA P-256 over SHA-256(`data`) with the 32-byte private scalar; 64 bytes, R ‖ S. */
export declare function es256Sign(privateScalar: Buffer, data: Buffer): Buffer;
/** ES256 verification with an uncompressed public point (65 bytes); throws on malformed arguments, false when invalid. */
export declare function es256Verify(publicPoint: Buffer, data: Buffer, signature: Buffer): boolean;
