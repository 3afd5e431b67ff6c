// The symmetric half of a DMR JWE: A256GCM content encryption (RFC 7518 §5.3) and A256KW key wrapping (RFC 3394,
// RFC 7518 §4.4), through the same OpenSSL as node:crypto.
//
// Why this exists: every node:crypto Cipheriv is a stream object with its JS wrapper layers; for the two tiny
// operations of a message (wrap a 32-byte key, encrypt ~2 KB) that set-up costs more than the AES itself. Here
// each call is one EVP context set up, used and cleared in C. Only OpenSSL 3's EVP interface is used (the
// AES_set_*_key / AES_wrap_key calls are deprecated since 3.0): key wrapping is the provider's AES-256-WRAP cipher.
#include <openssl/evp.h>
#include <stdint.h>
#include <string.h>

#include "addon.h"

#define KEY_BYTES 32
#define IV_BYTES 12
#define TAG_BYTES 16
#define WRAPPED_BYTES (KEY_BYTES + 8)

static EVP_CIPHER* aes_256_gcm = NULL;
static EVP_CIPHER* aes_256_wrap = NULL;

// Runs AES-256-GCM over `in` (encrypting when `encrypt`), after `aad`; `tag` is written (encrypt) or checked.
static int gcm(int encrypt, const unsigned char* key, const unsigned char* iv, const unsigned char* aad, size_t aad_length,
               const unsigned char* in, size_t length, unsigned char* out, unsigned char* tag) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int written = 0;
  int ok = ctx != NULL && length <= INT32_MAX && aad_length <= INT32_MAX &&
           EVP_CipherInit_ex(ctx, aes_256_gcm, NULL, key, iv, encrypt) == 1 &&
           (aad_length == 0 || EVP_CipherUpdate(ctx, NULL, &written, aad, (int)aad_length) == 1) &&
           (length == 0 || EVP_CipherUpdate(ctx, out, &written, in, (int)length) == 1) &&
           (encrypt || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, tag) == 1) &&
           EVP_CipherFinal_ex(ctx, out + (length == 0 ? 0 : written), &written) == 1 &&
           (!encrypt || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, tag) == 1);
  EVP_CIPHER_CTX_free(ctx);  // clears the key schedule
  return ok;
}

// aesGcmSeal(key: Buffer(32), iv: Buffer(12), aad: Buffer, plaintext: Buffer) → Buffer: ciphertext ‖ tag (16).
static napi_value aes_gcm_seal(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  const unsigned char *key = NULL, *iv = NULL, *aad = NULL, *plaintext = NULL;
  size_t aad_length = 0, length = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4) return fail(env, "aesGcmSeal takes 4 arguments");
  if (!buffer_arg(env, argv[0], KEY_BYTES, &key)) return fail(env, "key must be a 32-byte Buffer");
  if (!buffer_arg(env, argv[1], IV_BYTES, &iv)) return fail(env, "iv must be a 12-byte Buffer");
  if (!data_arg(env, argv[2], &aad, &aad_length)) return fail(env, "aad must be a Buffer");
  if (!data_arg(env, argv[3], &plaintext, &length)) return fail(env, "plaintext must be a Buffer");

  napi_value result = NULL;
  unsigned char* out = NULL;
  if (napi_create_buffer(env, length + TAG_BYTES, (void**)&out, &result) != napi_ok) return fail(env, "out of memory");
  if (!gcm(1, key, iv, aad, aad_length, plaintext, length, out, out + length)) return fail(env, "AES-GCM encryption failed");
  return done(result);
}

// aesGcmOpen(key: Buffer(32), iv: Buffer(12), aad: Buffer, ciphertext: Buffer, tag: Buffer(16)) → Buffer: the
// plaintext. Throws when the tag does not authenticate ciphertext and aad under key and iv.
static napi_value aes_gcm_open(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  const unsigned char *key = NULL, *iv = NULL, *aad = NULL, *ciphertext = NULL, *tag = NULL;
  size_t aad_length = 0, length = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 5) return fail(env, "aesGcmOpen takes 5 arguments");
  if (!buffer_arg(env, argv[0], KEY_BYTES, &key)) return fail(env, "key must be a 32-byte Buffer");
  if (!buffer_arg(env, argv[1], IV_BYTES, &iv)) return fail(env, "iv must be a 12-byte Buffer");
  if (!data_arg(env, argv[2], &aad, &aad_length)) return fail(env, "aad must be a Buffer");
  if (!data_arg(env, argv[3], &ciphertext, &length)) return fail(env, "ciphertext must be a Buffer");
  if (!buffer_arg(env, argv[4], TAG_BYTES, &tag)) return fail(env, "tag must be a 16-byte Buffer");

  napi_value result = NULL;
  unsigned char* out = NULL;
  // a zero-length Buffer may have no storage; GCM writes nothing for an empty ciphertext anyway
  unsigned char empty[1];
  if (napi_create_buffer(env, length, (void**)&out, &result) != napi_ok) return fail(env, "out of memory");
  unsigned char expected[TAG_BYTES];
  memcpy(expected, tag, TAG_BYTES);
  if (!gcm(0, key, iv, aad, aad_length, ciphertext, length, length == 0 ? empty : out, expected)) {
    if (length > 0) OPENSSL_cleanse(out, length);  // never hand back unauthenticated plaintext
    return fail(env, "AES-GCM authentication failed");
  }
  return done(result);
}

// RFC 3394 with the default initial value: wraps (`encrypt`) 32 bytes into 40 or unwraps 40 into 32, under `kek`.
// Returns the output length, or 0 on failure (for unwrapping: the integrity check failed).
static int key_wrap(int encrypt, const unsigned char* kek, const unsigned char* in, int in_length, unsigned char* out) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int written = 0;
  int final_written = 0;
  if (ctx != NULL) EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  // a NULL iv selects RFC 3394's default initial value A6A6A6A6A6A6A6A6
  int ok = ctx != NULL && EVP_CipherInit_ex2(ctx, aes_256_wrap, kek, NULL, encrypt, NULL) == 1 &&
           EVP_CipherUpdate(ctx, out, &written, in, in_length) == 1 && EVP_CipherFinal_ex(ctx, out + written, &final_written) == 1;
  EVP_CIPHER_CTX_free(ctx);  // clears the key schedule
  return ok ? written + final_written : 0;
}

// aesKeyWrap(kek: Buffer(32), key: Buffer(32)) → Buffer(40): RFC 3394 with the default initial value.
static napi_value aes_key_wrap(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  const unsigned char *kek = NULL, *key = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2) return fail(env, "aesKeyWrap takes 2 arguments");
  if (!buffer_arg(env, argv[0], KEY_BYTES, &kek)) return fail(env, "key-encryption key must be a 32-byte Buffer");
  if (!buffer_arg(env, argv[1], KEY_BYTES, &key)) return fail(env, "key must be a 32-byte Buffer");

  napi_value result = NULL;
  unsigned char* out = NULL;
  if (napi_create_buffer(env, WRAPPED_BYTES, (void**)&out, &result) != napi_ok) return fail(env, "out of memory");
  if (key_wrap(1, kek, key, KEY_BYTES, out) != WRAPPED_BYTES) return fail(env, "key wrap failed");
  return done(result);
}

// aesKeyUnwrap(kek: Buffer(32), wrapped: Buffer(40)) → Buffer(32). Throws when the integrity check fails.
static napi_value aes_key_unwrap(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  const unsigned char *kek = NULL, *wrapped = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2) return fail(env, "aesKeyUnwrap takes 2 arguments");
  if (!buffer_arg(env, argv[0], KEY_BYTES, &kek)) return fail(env, "key-encryption key must be a 32-byte Buffer");
  if (!buffer_arg(env, argv[1], WRAPPED_BYTES, &wrapped)) return fail(env, "wrapped key must be a 40-byte Buffer");

  // room for a whole wrapped block: the cipher may write up to its input length before it checks the integrity value
  unsigned char key[WRAPPED_BYTES];
  napi_value result = NULL;
  unsigned char* out = NULL;
  const char* error = NULL;
  if (key_wrap(0, kek, wrapped, WRAPPED_BYTES, key) != KEY_BYTES) error = "key unwrap failed";
  else if (napi_create_buffer_copy(env, KEY_BYTES, key, (void**)&out, &result) != napi_ok) error = "out of memory";
  OPENSSL_cleanse(key, sizeof key);
  return error == NULL ? done(result) : fail(env, error);
}

napi_value define_aes_functions(napi_env env, napi_value exports) {
  if (aes_256_gcm == NULL) aes_256_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
  if (aes_256_wrap == NULL) aes_256_wrap = EVP_CIPHER_fetch(NULL, "AES-256-WRAP", NULL);
  // without them the AES functions are left out; @dmr/shared then uses node:crypto for AES and the addon for the rest
  if (aes_256_gcm == NULL || aes_256_wrap == NULL) return done(exports);
  napi_property_descriptor methods[] = {
      {"aesGcmSeal", NULL, aes_gcm_seal, NULL, NULL, NULL, napi_enumerable, NULL},
      {"aesGcmOpen", NULL, aes_gcm_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"aesKeyWrap", NULL, aes_key_wrap, NULL, NULL, NULL, napi_enumerable, NULL},
      {"aesKeyUnwrap", NULL, aes_key_unwrap, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods) != napi_ok) return NULL;
  return exports;
}
