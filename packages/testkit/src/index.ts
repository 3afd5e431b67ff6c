/**
 * Test infrastructure: private RabbitMQ nodes and per-test vhosts, private PostgreSQL clusters and Prometheus servers.
 *
 * Start one node per test run ({@link startRabbitNode}) and isolate tests by
 * vhost ({@link createVhost}); the repo's vitest global setup does exactly that.
 * Fault tests that need node loss with quorum queues use {@link startRabbitCluster}.
 */

export { findFreePort, findFreePorts } from './free-port.js';
export { type HostEnv, readHostEnv } from './host-env.js';
export {
  buildNodeEnv,
  type NodeEnvInput,
  type NodeLayout,
  type NodePorts,
  type NodeTlsFiles,
  nodeLayout,
  type RabbitConfInput,
  renderEnabledPlugins,
  renderRabbitConf,
} from './node-env.js';
export {
  amqpUrlFor,
  basicAuthHeader,
  managementApiBaseFor,
  managementBaseFor,
  managementUrlFor,
  type RabbitNodeInfo,
  toNodeInfo,
} from './node-info.js';
export { POSTGRES_TEST_USER, type PostgresCluster, type StartPostgresOptions, startPostgres } from './postgres.js';
export { DEFAULT_POSTGRES_LIB_DIR, locatePostgresBin } from './postgres-process.js';
export {
  locatePrometheusBin,
  type PrivatePrometheus,
  type PromSample,
  type PromtoolResult,
  runPromtool,
  type StartPrometheusOptions,
  startPrometheus,
} from './prometheus.js';
export { type RabbitCluster, type StartRabbitClusterOptions, startRabbitCluster } from './rabbit-cluster.js';
export {
  DEFAULT_MEMORY_HIGH_WATERMARK,
  DEFAULT_NODE_USER,
  type RabbitNode,
  resolveNodeName,
  type StartRabbitNodeOptions,
  startRabbitNode,
} from './rabbit-node.js';
export { DEFAULT_RABBITMQ_LIB_DIR, locateRabbitSbin, pickNewestServerDir } from './rabbit-sbin.js';
export {
  type CertWindow,
  selfSignedAgentCertificate,
  TestCa,
  type TestCrlOptions,
  type TestLeafOptions,
  testKeyPair,
  windowDays,
} from './test-ca.js';
export { createVhost, type RabbitVhost } from './vhost.js';
