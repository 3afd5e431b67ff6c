export { AckBatcher, type AckChannel } from './ack-batcher.js';
export { BrokerConnection, type BrokerEvents, type BrokerSetup, type BrokerStatus } from './broker-connection.js';
export { type BrokerSetupParts, createBrokerSetup } from './broker-setup.js';
export { CancellableSleep } from './cancellable-sleep.js';
export { applyPolicies, applyPoliciesAnywhere, type ManagementTarget } from './policies.js';
export { PolicyApplier, type PolicyApplierDeps, type PolicyMetrics, type PolicyState } from './policy-applier.js';
export { BrokerNack, isBrokerNack, type PublishPort, QueueFullTranslator } from './publish-refusal.js';
export {
  AgentQueuePreparer,
  type AssertAgent,
  assertEach,
  guardRecipientQueues,
  type OpenChannel,
  type PreparerDeps,
  type PreparerMetrics,
  type Publisher,
} from './queue-preparer.js';
export { assertAgentQueues, assertBaseTopology } from './topology.js';
