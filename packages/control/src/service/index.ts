// the OpenAPI document of the admin API, for `npm run openapi` (scripts/generate-openapi.mjs)
export { buildOpenApiDocument, OPENAPI_DOCUMENT_VERSION } from '../api/index.js';
export { controlBinInfo } from './bin-info.js';
export {
  buildControl,
  CONTROL_REDACT_PATHS,
  type ControlDeps,
  type ControlState,
  type DmrControl,
  httpsOptions,
  isRevokedInStore,
} from './build-control.js';
export {
  type ControlConfig,
  type ControlConfigFiles,
  type ControlTlsConfig,
  DEFAULT_MAX_BODY_BYTES,
  LOCAL_CONTROL_FILES,
  loadControlConfig,
} from './control-config.js';
export { CONTROL_METRIC, type ControlMetrics, createControlMetrics } from './control-metrics.js';
