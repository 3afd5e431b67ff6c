'use strict';
// Throws when the addon was not built (`npm run build:native -w @dmr/native-ecdh`); @dmr/shared then uses node:crypto.
module.exports = require('./build/Release/dmr_ecdh_p256.node');
