export { AgentId, IsoTimestamp, MessageId, Uuid } from './common.js';
export {
  AgentCapability,
  CentOpsAgent,
  CentOpsConfiguration,
  DmrRegistryExtension,
  MAX_DISABLED_AGENTS,
  MAX_REGISTRY_GROUPS,
  REGISTRY_GROUP_PATTERN,
} from './registry.js';
export { type DeliveredMessage, V1Chat, V1ChatEntry, V1MessageBody, V1Payload, V1RelayedPayload } from './v1-message.js';
export { compileValidator, toFieldErrors, type Validator } from './validate.js';
export { DeliveredWireSchema, pickWireFields, type WireMessageBody, WireMessageSchema } from './wire-message.js';
