export { ApiError } from './api-error.js';
export { MAX_BODY_DEPTH, parseJson, parseYamlDocument, YAML_CONTENT_TYPES } from './body-parsers.js';
export { type CallerGuardDeps, certificateOfSocket } from './caller-guard.js';
export { type Announce, actorOf, type Committed, commitWrite, type WriteContext } from './commit.js';
export { type ApiDeps, buildApiApp } from './http-app.js';
export { buildOpenApiDocument, OPENAPI_DOCUMENT_VERSION } from './openapi.js';
export { listAll, type ReadinessReport, type RouteContext, type RouteGroup } from './route-context.js';
export { centOpsDocument } from './routes/centops.js';
export { ROUTE_GROUPS } from './routes/index.js';
