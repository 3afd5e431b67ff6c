// Shared by the addon's C files: argument reading and the error discipline every exported function follows.
#ifndef DMR_ADDON_H
#define DMR_ADDON_H

#include <node_api.h>
#include <openssl/err.h>

// OpenSSL records why a call failed in a per-thread error queue that node:crypto reads too: an entry left there by
// this addon (an off-curve point, a signature that does not verify) would surface later as the error of an
// unrelated node:crypto call on the same thread. Every function therefore ends with the queue cleared.
static inline napi_value done(napi_value result) {
  ERR_clear_error();
  return result;
}

static inline napi_value fail(napi_env env, const char* message) {
  ERR_clear_error();
  napi_throw_error(env, "ERR_DMR_NATIVE_ECDH", message);
  return NULL;
}

// Reads `value` as a Buffer of exactly `expected` bytes.
static inline int buffer_arg(napi_env env, napi_value value, size_t expected, const unsigned char** data) {
  bool is_buffer = false;
  size_t length = 0;
  if (napi_is_buffer(env, value, &is_buffer) != napi_ok || !is_buffer) return 0;
  if (napi_get_buffer_info(env, value, (void**)data, &length) != napi_ok) return 0;
  return length == expected;
}

// Reads `value` as a Buffer of any length (the data to sign or verify).
static inline int data_arg(napi_env env, napi_value value, const unsigned char** data, size_t* length) {
  bool is_buffer = false;
  if (napi_is_buffer(env, value, &is_buffer) != napi_ok || !is_buffer) return 0;
  return napi_get_buffer_info(env, value, (void**)data, length) == napi_ok;
}

// Adds aesGcmSeal, aesGcmOpen, aesKeyWrap and aesKeyUnwrap (aes_jwe.c) to `exports` (none of them when OpenSSL
// offers no AES-256-GCM); NULL on failure.
napi_value define_aes_functions(napi_env env, napi_value exports);

#endif
