export { AgentDelivery, type DeliveryDeps, type DeliverySettings, type EmitDelivery } from './agent-delivery.js';
export { type DeliveryAge, type DeliveryDecision, decideDelivery, type ParsedAck, parseDeliveryAck } from './delivery-decision.js';
export { type GatewayDeps, SocketGateway } from './socket-gateway.js';
export { type AckCallback, answer, type EventArguments, logFailure, splitEventArguments } from './socket-input.js';
