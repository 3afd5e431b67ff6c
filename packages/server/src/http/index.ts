export { buildHttpApp, type HttpDeps, type ReadinessReport } from './http-app.js';
export { httpsServerOptions, secureContextOptions, TLS12_CIPHERS } from './tls-options.js';
