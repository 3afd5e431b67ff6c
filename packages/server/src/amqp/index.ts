export { type BrokerEvents, type BrokerSetup, type BrokerStatus, BrokerConnection } from './broker-connection.js';
export { CancellableSleep } from './cancellable-sleep.js';
export { applyPolicies, type ManagementTarget } from './policies.js';
export { assertAgentQueues, assertBaseTopology } from './topology.js';
