import { createRequire } from 'node:module';

/** The functions of `@dmr/native-ecdh` (see its `index.d.cts`); an older build may lack some. */
export interface NativeAddon {
  agreement(privateScalar: Buffer, peerPoint: Buffer): Buffer;
  ephemeralAgreement(peerPoint: Buffer): Buffer;
  es256Sign(privateScalar: Buffer, data: Buffer): Buffer;
  es256Verify(publicPoint: Buffer, data: Buffer, signature: Buffer): boolean;
  aesGcmSeal(key: Buffer, iv: Buffer, aad: Buffer, plaintext: Uint8Array): Buffer;
  aesGcmOpen(key: Buffer, iv: Buffer, aad: Buffer, ciphertext: Buffer, tag: Buffer): Buffer;
  aesKeyWrap(kek: Buffer, key: Buffer): Buffer;
  aesKeyUnwrap(kek: Buffer, wrapped: Buffer): Buffer;
}

/**
 * The addon with the functions `names`, or undefined when it is not built or lacks one of them (a build older than
 * its sources). Each backend then runs its own self-check before using it.
 */
export function loadNativeAddon<K extends keyof NativeAddon>(...names: K[]): Pick<NativeAddon, K> | undefined {
  let addon: Partial<NativeAddon>;
  try {
    addon = createRequire(import.meta.url)('@dmr/native-ecdh') as Partial<NativeAddon>;
  } catch {
    return undefined;
  }
  return names.every((name) => typeof addon[name] === 'function') ? (addon as Pick<NativeAddon, K>) : undefined;
}
