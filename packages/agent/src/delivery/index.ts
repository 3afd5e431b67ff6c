export { CANCELLED, ChatSequencer, type LaneVerdict, type SequencerSettings, type Ticket } from './chat-sequencer.js';
export { DedupWindow, DeliveryGate, type GateRun } from './dedup-window.js';
export {
  EndpointClient,
  type EndpointIo,
  type EndpointResult,
  type EndpointSettings,
  IDEMPOTENCY_KEY_HEADER,
  idempotencyKeyOf,
} from './endpoint-client.js';
export { createHttpPost, type HttpPost, httpPostFromFetch, type PooledHttpPost, type PostHeaders } from './http-post.js';
export {
  type EndpointPort,
  InboundDelivery,
  type InboundDeps,
  type InboundSettings,
  type UnboundAccepted,
  type UnboundBasis,
  unboundBasisFor,
} from './inbound-delivery.js';
