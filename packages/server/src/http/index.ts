export { buildHttpApp, type HttpDeps, type ReadinessReport } from './http-app.js';
