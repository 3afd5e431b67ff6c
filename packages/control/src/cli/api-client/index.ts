// dmrctl's client of dmr-control's admin API: connection settings, mTLS transport, typed errors, the route methods.

export { ControlApiError, errorFromResponse, formatApiError, isRevisionConflict, REVISION_MISMATCH_CODE } from './api-error.js';
export {
  CONNECTION_VARIABLES,
  type ConnectionFlags,
  type ConnectionSettings,
  DEFAULT_TIMEOUT_MS,
  parseBaseUrl,
  resolveConnection,
} from './connection.js';
export {
  type ApiRecord,
  type ControlClient,
  createControlClient,
  etagOf,
  type ListOptions,
  PAGE_SIZE,
  recordOf,
  type Tagged,
} from './control-client.js';
export { type ApiRequest, type ApiResponse, type ApiTransport, openTransport, requestUrl, transportError } from './transport.js';
