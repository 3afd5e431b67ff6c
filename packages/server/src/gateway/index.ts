export { AgentDelivery, type DeliveryDeps, type DeliverySettings, type EmitDelivery } from './agent-delivery.js';
export { type DeliveryAge, type DeliveryDecision, decideDelivery } from './delivery-decision.js';
export { type GatewayDeps, SocketGateway } from './socket-gateway.js';
