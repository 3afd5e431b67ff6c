{
  "targets": [
    {
      "target_name": "dmr_ecdh_p256",
      "sources": ["src/ecdh_p256.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror"]
    }
  ]
}
