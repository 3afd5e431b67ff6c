export { AgentId, IsoTimestamp, MessageId, Uuid } from './common.js';
export { CentOpsAgent, CentOpsConfiguration } from './registry.js';
export { type DeliveredMessage, V1Chat, V1ChatEntry, V1MessageBody, V1Payload, V1RelayedPayload } from './v1-message.js';
export { compileValidator, toFieldErrors, type Validator } from './validate.js';
export { type WireMessageBody, WireMessageSchema } from './wire-message.js';
