export {
  type AcceptedMessage,
  buildFailureRecord,
  checkShape,
  INBOUND_SHAPE_LIMITS,
  type InboundContext,
  validateInbound,
} from './inbound-validation.js';
export { denialReason, MessageRouter, type RouterDeps } from './message-router.js';
export { InFlightCounter, RouteAdmission, type RoutePort } from './route-admission.js';
