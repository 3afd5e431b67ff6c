export { AckBatcher, type AckChannel } from './ack-batcher.js';
export { BrokerConnection, type BrokerEvents, type BrokerSetup, type BrokerStatus } from './broker-connection.js';
export { CancellableSleep } from './cancellable-sleep.js';
export { applyPolicies, applyPoliciesAnywhere, type ManagementTarget } from './policies.js';
export { BrokerNack, isBrokerNack, type PublishPort, QueueFullTranslator } from './publish-refusal.js';
export { assertAgentQueues, assertBaseTopology } from './topology.js';
