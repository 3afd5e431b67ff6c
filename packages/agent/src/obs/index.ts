export { AgentMetrics, type MessageDirection } from './agent-metrics.js';
export { createOutcomeSink, type MessageOutcome, type MessageResult, type OutcomeSink } from './message-outcome.js';
