export { type ErrorBody, errorBody } from './error-body.js';
export { buildHttpApp, type HttpAppDeps, type HttpMetricsPort, type Readiness } from './http-app.js';
export { LoopDelayGauge, type LoopDelayGaugeSettings } from './loop-delay.js';
export { buildOpenApiDocument, type JsonObject, MESSAGE_ROUTE_CODES, OPENAPI_DOCUMENT_VERSION } from './openapi.js';
export { BACKPRESSURE_RETRY_AFTER_S, type OutboundDeps, type OutboundResult, OutboundSender, type SendPort } from './outbound-sender.js';
export { AcceptedBodySchema, ErrorBodySchema, FieldErrorSchema, HealthBodySchema, ReadyBodySchema } from './response-schemas.js';
