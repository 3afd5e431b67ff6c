export { type ErrorBody, errorBody } from './error-body.js';
export { buildHttpApp, type HttpAppDeps, type HttpMetricsPort, type Readiness } from './http-app.js';
export { LoopDelayGauge, type LoopDelayGaugeSettings } from './loop-delay.js';
export { BACKPRESSURE_RETRY_AFTER_S, type OutboundDeps, type OutboundResult, OutboundSender, type SendPort } from './outbound-sender.js';
