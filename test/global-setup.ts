// Starts ONE private RabbitMQ node for the whole integration run; tests isolate themselves by vhost
// (test/support/rabbit.ts). Only serialisable facts cross into the test workers, through provide/inject.
import { type RabbitNodeInfo, startRabbitNode, toNodeInfo } from '@dmr/testkit';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's shared RabbitMQ node: ports on 127.0.0.1, administrator credentials, node name. */
    rabbit: RabbitNodeInfo;
  }
}

/** vitest global setup: starts the node, provides its info as `rabbit`, and returns the teardown that stops it. */
export async function setup(project: TestProject): Promise<() => Promise<void>> {
  // rabbitmq_prometheus on a private port: test/e2e/prometheus.test.ts scrapes it (issue 20)
  const node = await startRabbitNode({ prometheus: true });
  try {
    project.provide('rabbit', toNodeInfo(node));
  } catch (error) {
    await node.stop();
    throw error;
  }
  return () => node.stop();
}
