// P-256 key agreement for ECDH-ES through the OpenSSL that Node.js itself ships (the addon links against
// the node binary's own libcrypto symbols, so there is exactly one OpenSSL in the process).
//
// Why this exists: node:crypto's ECDH.computeSecret and crypto.diffieHellman validate the peer key with a
// full public-key check, which includes multiplying the point by the group order. For P-256 (cofactor 1)
// that check is redundant once the point is known to be on the curve, and it doubles the cost of every key
// agreement (~110 µs instead of ~50 µs on the reference machine). Here the point is decoded with
// EC_POINT_oct2point (under EVP_PKEY_set1_encoded_public_key), which refuses points that are not on the curve,
// and the uncompressed 65-byte encoding cannot express the point at infinity: that is the whole validation P-256
// needs (SP 800-56A rev. 3, §5.6.2.3.4, partial public-key validation, sufficient for ephemeral-static ECDH on a
// prime-order curve). The
// agreement then runs through EVP_PKEY_derive with peer validation off (EVP_PKEY_derive_set_peer_ex(…, 0)),
// which is what skips the order multiplication.
//
// Only OpenSSL 3's EVP interfaces are used (private keys from OSSL_PARAMs with EVP_PKEY_fromdata, public keys and
// ephemeral key pairs from a P-256 parameters key made once), none of the EC_KEY/ECDH/ECDSA calls deprecated since
// 3.0: binding.gyp defines OPENSSL_NO_DEPRECATED, so using one is a compile error.
//
// The ephemeral private key of `ephemeralAgreement` never leaves this file and is cleared when freed; a private
// scalar copied into a BIGNUM or an OSSL_PARAM buffer is cleared once the key holds its copy.
#include <node_api.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "addon.h"

#define POINT_BYTES 65
#define SCALAR_BYTES 32
#define SECRET_BYTES 32
#define SIGNATURE_BYTES 64
// a DER ECDSA-Sig-Value of P-256: SEQUENCE of two INTEGERs of at most 33 bytes each
#define MAX_DER_SIGNATURE_BYTES 72

static EC_GROUP* p256 = NULL;
static char p256_name[] = SN_X9_62_prime256v1;

// A private scalar must be in [1, n − 1].
static int valid_scalar(const BIGNUM* d) {
  return !BN_is_zero(d) && BN_cmp(d, EC_GROUP_get0_order(p256)) < 0;
}

// A key holding only P-256's domain parameters, made once at load. Keys are copies of it with their scalar or point
// set: building each from a group name (EVP_PKEY_fromdata) re-creates the group every time, which cost ~10 µs a call.
static EVP_PKEY* p256_parameters = NULL;

static EVP_PKEY* parameters_key(void) {
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, p256_name, 0),
      OSSL_PARAM_construct_end(),
  };
  EVP_PKEY* key = NULL;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
  if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEY_PARAMETERS, params) != 1) key = NULL;
  EVP_PKEY_CTX_free(ctx);
  return key;
}

// A key holding `scalar` (32 bytes, big-endian), built with EVP_PKEY_fromdata; NULL when the scalar is outside
// [1, n − 1] or on failure.
static EVP_PKEY* import_private_key(const unsigned char* scalar) {
  BIGNUM* d = BN_bin2bn(scalar, SCALAR_BYTES, NULL);
  // OSSL_PARAM integers are in native byte order
  unsigned char native[SCALAR_BYTES];
  int ok = d != NULL && valid_scalar(d) && BN_bn2nativepad(d, native, SCALAR_BYTES) == SCALAR_BYTES;
  BN_clear_free(d);
  if (!ok) return NULL;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, p256_name, 0),
      OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_PRIV_KEY, native, SCALAR_BYTES),
      OSSL_PARAM_construct_end(),
  };
  EVP_PKEY* key = NULL;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
  if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEYPAIR, params) != 1) key = NULL;
  EVP_PKEY_CTX_free(ctx);
  OPENSSL_cleanse(native, sizeof native);
  return key;
}

// The private keys imported last in this Node environment (one cache per main thread or worker, so no locking). An
// agent agrees and signs with one private key, and importing it per call (EVP_PKEY_fromdata builds the group and
// the public point) cost more than the saving this addon exists for; the JS side holds the same scalars anyway.
// A few entries, so that several in-process agents (tests, the bench) do not evict each other on every call.
#define CACHED_KEYS 4

typedef struct {
  unsigned char scalars[CACHED_KEYS][SCALAR_BYTES];
  EVP_PKEY* keys[CACHED_KEYS];
  size_t next;  // the entry replaced next (round robin)
} PrivateKeyCache;

static void free_private_key_cache(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  PrivateKeyCache* cache = data;
  for (size_t i = 0; i < CACHED_KEYS; i++) EVP_PKEY_free(cache->keys[i]);  // clears the private scalars
  OPENSSL_cleanse(cache->scalars, sizeof cache->scalars);
  free(cache);
}

// A key holding `scalar`, owned by the cache: do not free it. NULL when the scalar is refused or on failure.
static EVP_PKEY* private_key(napi_env env, const unsigned char* scalar) {
  PrivateKeyCache* cache = NULL;
  if (napi_get_instance_data(env, (void**)&cache) != napi_ok || cache == NULL) return NULL;
  for (size_t i = 0; i < CACHED_KEYS; i++) {
    if (cache->keys[i] != NULL && CRYPTO_memcmp(cache->scalars[i], scalar, SCALAR_BYTES) == 0) return cache->keys[i];
  }
  EVP_PKEY* key = import_private_key(scalar);
  if (key == NULL) return NULL;
  size_t slot = cache->next;
  cache->next = (slot + 1) % CACHED_KEYS;
  EVP_PKEY_free(cache->keys[slot]);
  cache->keys[slot] = key;
  memcpy(cache->scalars[slot], scalar, SCALAR_BYTES);
  return key;
}

// A public key for an uncompressed P-256 point; NULL when it is malformed or not on the curve. Only the uncompressed
// form (0x04) is taken (65 bytes could also be the hybrid forms 0x06/0x07); decoding it (EC_POINT_oct2point under
// EVP_PKEY_set1_encoded_public_key) sets the affine coordinates, which refuses a point that is not on the curve.
static EVP_PKEY* public_key(const unsigned char* encoded) {
  EVP_PKEY* key = encoded[0] == 0x04 ? EVP_PKEY_dup(p256_parameters) : NULL;
  if (key != NULL && EVP_PKEY_set1_encoded_public_key(key, encoded, POINT_BYTES) != 1) {
    EVP_PKEY_free(key);
    key = NULL;
  }
  return key;
}

// Writes the x coordinate of d·Q (32 bytes) to `out`. The peer was validated by public_key(): the derive's own full
// check (n·Q) is turned off, as the file comment explains.
static int derive(EVP_PKEY* own, EVP_PKEY* peer, unsigned char* out) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(NULL, own, NULL);
  size_t length = SECRET_BYTES;
  int ok = ctx != NULL && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) == 1 &&
           EVP_PKEY_derive(ctx, out, &length) == 1 && length == SECRET_BYTES;
  EVP_PKEY_CTX_free(ctx);
  return ok;
}

// agreement(privateScalar: Buffer(32), peerPoint: Buffer(65)) → Buffer(32): the x coordinate of d·Q.
static napi_value agreement(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  const unsigned char* scalar = NULL;
  const unsigned char* encoded = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2) return fail(env, "agreement takes 2 arguments");
  if (!buffer_arg(env, argv[0], SCALAR_BYTES, &scalar)) return fail(env, "private scalar must be a 32-byte Buffer");
  if (!buffer_arg(env, argv[1], POINT_BYTES, &encoded)) return fail(env, "peer point must be a 65-byte Buffer");

  napi_value result = NULL;
  const char* error = NULL;
  EVP_PKEY* peer = public_key(encoded);
  EVP_PKEY* key = peer == NULL ? NULL : private_key(env, scalar);
  unsigned char* out = NULL;
  if (peer == NULL) error = "peer point is not a valid P-256 point";
  else if (key == NULL) error = "private scalar refused";
  else if (napi_create_buffer(env, SECRET_BYTES, (void**)&out, &result) != napi_ok) error = "out of memory";
  else if (!derive(key, peer, out)) error = "key agreement failed";
  EVP_PKEY_free(peer);  // `key` belongs to the cache
  return error == NULL ? done(result) : fail(env, error);
}

// A fresh P-256 key pair, generated from the parameters key (EVP_PKEY_Q_keygen would re-create the group per call).
static EVP_PKEY* generate_key(void) {
  EVP_PKEY* key = NULL;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(NULL, p256_parameters, NULL);
  if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &key) != 1) key = NULL;
  EVP_PKEY_CTX_free(ctx);
  return key;
}

// ephemeralAgreement(peerPoint: Buffer(65)) → Buffer(97): a fresh ephemeral public point (65) ‖ the shared secret (32).
static napi_value ephemeral_agreement(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  const unsigned char* encoded = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1) return fail(env, "ephemeralAgreement takes 1 argument");
  if (!buffer_arg(env, argv[0], POINT_BYTES, &encoded)) return fail(env, "peer point must be a 65-byte Buffer");

  napi_value result = NULL;
  const char* error = NULL;
  EVP_PKEY* peer = public_key(encoded);
  EVP_PKEY* ephemeral = peer == NULL ? NULL : generate_key();
  unsigned char* out = NULL;
  size_t point_length = 0;
  if (peer == NULL) error = "peer point is not a valid P-256 point";
  else if (ephemeral == NULL) error = "ephemeral key generation failed";
  else if (napi_create_buffer(env, POINT_BYTES + SECRET_BYTES, (void**)&out, &result) != napi_ok) error = "out of memory";
  // the encoded public key of an EC key is the uncompressed point (OpenSSL's default point format)
  else if (EVP_PKEY_get_octet_string_param(ephemeral, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out, POINT_BYTES, &point_length) != 1 ||
           point_length != POINT_BYTES || out[0] != 0x04) error = "ephemeral point encoding failed";
  else if (!derive(ephemeral, peer, out + POINT_BYTES)) error = "key agreement failed";
  EVP_PKEY_free(ephemeral);  // clears the private scalar
  EVP_PKEY_free(peer);
  return error == NULL ? done(result) : fail(env, error);
}

// DER ECDSA-Sig-Value → R ‖ S (RFC 7518 §3.4) in `out` (64 bytes).
static int raw_signature(const unsigned char* der, size_t der_length, unsigned char* out) {
  ECDSA_SIG* signature = d2i_ECDSA_SIG(NULL, &der, (long)der_length);
  const BIGNUM* r = NULL;
  const BIGNUM* s = NULL;
  if (signature != NULL) ECDSA_SIG_get0(signature, &r, &s);
  int ok = signature != NULL && BN_bn2binpad(r, out, SIGNATURE_BYTES / 2) == SIGNATURE_BYTES / 2 &&
           BN_bn2binpad(s, out + SIGNATURE_BYTES / 2, SIGNATURE_BYTES / 2) == SIGNATURE_BYTES / 2;
  ECDSA_SIG_free(signature);
  return ok;
}

// es256Sign(privateScalar: Buffer(32), data: Buffer) → Buffer(64): ECDSA P-256 over SHA-256(data), R ‖ S (RFC 7518 §3.4).
static napi_value es256_sign(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  const unsigned char* scalar = NULL;
  const unsigned char* data = NULL;
  size_t length = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2) return fail(env, "es256Sign takes 2 arguments");
  if (!buffer_arg(env, argv[0], SCALAR_BYTES, &scalar)) return fail(env, "private scalar must be a 32-byte Buffer");
  if (!data_arg(env, argv[1], &data, &length)) return fail(env, "data must be a Buffer");

  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(data, length, digest);
  napi_value result = NULL;
  const char* error = NULL;
  EVP_PKEY* key = private_key(env, scalar);  // belongs to the cache
  // the digest is signed as it is (EVP_PKEY_sign, no EVP_DigestSign): one hash, computed above
  EVP_PKEY_CTX* ctx = key == NULL ? NULL : EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
  unsigned char der[MAX_DER_SIGNATURE_BYTES];
  size_t der_length = sizeof der;
  unsigned char* out = NULL;
  if (key == NULL) error = "private scalar refused";
  else if (ctx == NULL || EVP_PKEY_sign_init(ctx) != 1 || EVP_PKEY_sign(ctx, der, &der_length, digest, sizeof digest) != 1) error = "signing failed";
  else if (napi_create_buffer(env, SIGNATURE_BYTES, (void**)&out, &result) != napi_ok) error = "out of memory";
  else if (!raw_signature(der, der_length, out)) error = "signature encoding failed";
  EVP_PKEY_CTX_free(ctx);
  return error == NULL ? done(result) : fail(env, error);
}

// R ‖ S → DER ECDSA-Sig-Value in `der`; its length, or 0 on failure.
static size_t der_signature(const unsigned char* raw, unsigned char der[MAX_DER_SIGNATURE_BYTES]) {
  ECDSA_SIG* signature = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(raw, SIGNATURE_BYTES / 2, NULL);
  BIGNUM* s = BN_bin2bn(raw + SIGNATURE_BYTES / 2, SIGNATURE_BYTES / 2, NULL);
  int length = 0;
  if (signature != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(signature, r, s) == 1) {
    r = s = NULL;  // owned by the signature now
    unsigned char* cursor = der;
    if (i2d_ECDSA_SIG(signature, NULL) <= MAX_DER_SIGNATURE_BYTES) length = i2d_ECDSA_SIG(signature, &cursor);
  }
  BN_free(r);
  BN_free(s);
  ECDSA_SIG_free(signature);
  return length > 0 ? (size_t)length : 0;
}

// es256Verify(publicPoint: Buffer(65), data: Buffer, signature: Buffer(64)) → boolean.
// Throws only on malformed arguments (including a point not on the curve); a signature that does not verify is false.
static napi_value es256_verify(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  const unsigned char* encoded = NULL;
  const unsigned char* data = NULL;
  const unsigned char* raw = NULL;
  size_t length = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3) return fail(env, "es256Verify takes 3 arguments");
  if (!buffer_arg(env, argv[0], POINT_BYTES, &encoded)) return fail(env, "public point must be a 65-byte Buffer");
  if (!data_arg(env, argv[1], &data, &length)) return fail(env, "data must be a Buffer");
  if (!buffer_arg(env, argv[2], SIGNATURE_BYTES, &raw)) return fail(env, "signature must be a 64-byte Buffer");

  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(data, length, digest);
  const char* error = NULL;
  int verified = 0;
  EVP_PKEY* key = public_key(encoded);
  EVP_PKEY_CTX* ctx = key == NULL ? NULL : EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
  unsigned char der[MAX_DER_SIGNATURE_BYTES];
  size_t der_length = 0;
  if (key == NULL) error = "public point is not a valid P-256 point";
  else if (ctx == NULL || EVP_PKEY_verify_init(ctx) != 1) error = "public key refused";
  else if ((der_length = der_signature(raw, der)) == 0) error = "signature refused";
  else verified = EVP_PKEY_verify(ctx, der, der_length, digest, sizeof digest) == 1;
  EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(key);
  if (error != NULL) return fail(env, error);
  napi_value result = NULL;
  napi_get_boolean(env, verified, &result);
  return done(result);
}

static napi_value init(napi_env env, napi_value exports) {
  if (p256 == NULL) p256 = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  if (p256 == NULL) return fail(env, "OpenSSL has no P-256 group");
  if (p256_parameters == NULL) p256_parameters = parameters_key();
  if (p256_parameters == NULL) return fail(env, "OpenSSL has no P-256 key parameters");
  PrivateKeyCache* cache = calloc(1, sizeof *cache);
  if (cache == NULL || napi_set_instance_data(env, cache, free_private_key_cache, NULL) != napi_ok) {
    free(cache);
    return fail(env, "cannot keep the addon's per-environment state");
  }
  napi_property_descriptor methods[] = {
      {"agreement", NULL, agreement, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ephemeralAgreement", NULL, ephemeral_agreement, NULL, NULL, NULL, napi_enumerable, NULL},
      {"es256Sign", NULL, es256_sign, NULL, NULL, NULL, napi_enumerable, NULL},
      {"es256Verify", NULL, es256_verify, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods) != napi_ok) return NULL;
  return define_aes_functions(env, exports);
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
