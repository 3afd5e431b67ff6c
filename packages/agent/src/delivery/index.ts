export { CANCELLED, ChatSequencer, type LaneVerdict, type SequencerSettings, type Ticket } from './chat-sequencer.js';
export { DedupWindow, DeliveryGate, type GateRun } from './dedup-window.js';
export { EndpointClient, type EndpointIo, type EndpointResult, type EndpointSettings } from './endpoint-client.js';
export { createHttpPost, type HttpPost, httpPostFromFetch } from './http-post.js';
export { type EndpointPort, InboundDelivery, type InboundDeps, type InboundSettings } from './inbound-delivery.js';
