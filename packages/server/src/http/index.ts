export { buildHttpApp, type HttpDeps, type ReadinessReport } from './http-app.js';
export {
  httpsServerOptions,
  LiveTlsContext,
  readTlsMaterial,
  secureContextOptions,
  TLS12_CIPHERS,
  type TlsMaterial,
} from './tls-options.js';
