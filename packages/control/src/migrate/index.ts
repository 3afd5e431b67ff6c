export { agentIdsFromBroker, agentIdsFromRegistry } from './agent-sources.js';
export { connectBroker } from './broker-client.js';
export { type MigrationOptions, type MigrationReport, type QueueResult, type QueueSurvey, runMigration, surveyPairs } from './migration.js';
export { type BrokerPair, type MoveCounts, type MoveSettings, QueueMover } from './queue-mover.js';
export { formatProgress, formatSummary, formatSurvey, ratePerSecond, totalsOf } from './report.js';
export {
  type ConvertedMessage,
  convertDeadLetter,
  convertQueued,
  describeDeath,
  MIGRATED_FROM_HEADER,
  readSeed003Wire,
  SEED003_RECEIVED_AT_HEADER,
  type SourceMessage,
} from './seed003-format.js';
export {
  agentIdOf,
  DEFAULT_SOURCE_DLQ_TEMPLATE,
  DEFAULT_SOURCE_QUEUE_TEMPLATE,
  discoverAgentIds,
  type QueuePair,
  queuePair,
  sourceQueueName,
  templateProblem,
} from './source-names.js';
