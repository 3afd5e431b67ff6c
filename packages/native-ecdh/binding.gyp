{
  "targets": [
    {
      "target_name": "dmr_ecdh_p256",
      "sources": ["src/ecdh_p256.c", "src/aes_jwe.c"],
      "defines": ["OPENSSL_NO_DEPRECATED"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror"]
    }
  ]
}
