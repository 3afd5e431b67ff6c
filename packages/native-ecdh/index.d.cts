/** The x coordinate of d·Q: `privateScalar` is 32 bytes big-endian, `peerPoint` an uncompressed P-256 point (65 bytes). */
export declare function agreement(privateScalar: Buffer, peerPoint: Buffer): Buffer;
/** A fresh ephemeral key agreed with `peerPoint`: 97 bytes, the ephemeral public point (65) then the shared secret (32). */
export declare function ephemeralAgreement(peerPoint: Buffer): Buffer;
/** ES256: ECDSA P-256 over SHA-256(`data`) with the 32-byte private scalar; 64 bytes, R ‖ S. */
export declare function es256Sign(privateScalar: Buffer, data: Buffer): Buffer;
/** ES256 verification with an uncompressed public point (65 bytes); throws on malformed arguments, false when invalid. */
export declare function es256Verify(publicPoint: Buffer, data: Buffer, signature: Buffer): boolean;
/** A256GCM encryption: ciphertext ‖ 16-byte tag, with a 32-byte key, a 12-byte IV and `aad` authenticated. */
export declare function aesGcmSeal(key: Buffer, iv: Buffer, aad: Buffer, plaintext: Buffer): Buffer;
/** A256GCM decryption; throws when `tag` (16 bytes) does not authenticate `ciphertext` and `aad`. */
export declare function aesGcmOpen(key: Buffer, iv: Buffer, aad: Buffer, ciphertext: Buffer, tag: Buffer): Buffer;
/** A256KW (RFC 3394, default IV) of a 32-byte key under a 32-byte key-encryption key: 40 bytes. */
export declare function aesKeyWrap(kek: Buffer, key: Buffer): Buffer;
/** A256KW unwrapping of 40 bytes to the 32-byte key; throws when the integrity check fails. */
export declare function aesKeyUnwrap(kek: Buffer, wrapped: Buffer): Buffer;
