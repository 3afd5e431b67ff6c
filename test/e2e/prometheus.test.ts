// Issue 20: a real, private Prometheus (Debian's 2.42) scrapes a running dmr-server, two dmr-agents, dmr-control
// and the run's RabbitMQ node (its rabbitmq_prometheus plugin) through their ops ports every second, loads the
// shipped rules (deploy/prometheus/rules) and evaluates them every second. The rules are loaded unchanged except
// for their `for:` durations, compressed 60-fold (1m -> 1s) like the scrape interval, so the pending -> firing
// path runs in seconds. Asserts: every target is up; the recording rules produce series; an agent whose endpoint
// fails fires DMRAgentDeliveryFailures for that agent only, while other alerts stay inactive; a stopped agent fires
// DMRTargetDown; and every metric name the rules and dashboards use is exported (or on the named pending list).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type PrivatePrometheus, startPrometheus } from '@dmr/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPki, makeControlPki, type RunningControl, removeControlPki, startControlProcess } from '../support/control-plane.js';
import {
  type Identity,
  makeIdentity,
  postMessage,
  Receiver,
  RegistryFile,
  type RunningAgent,
  type RunningServer,
  serverEnv,
  startAgent,
  startServer,
  v1Body,
  waitUntil,
} from '../support/dmr-system.js';
import { dashboardQueries, exposedNames, metricNamesIn, PENDING_METRICS, rulesDir, shippedRules } from '../support/promql.js';
import { type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';

const OPS = { DMR_OPS_PORT: '0' };
const FOR_COMPRESSION = 60;

/** `for: 2m` -> `for: 2s`: the rule files' `for` durations divided by {@link FOR_COMPRESSION} (at least 1 s). */
function compressFor(text: string): string {
  const unit: Record<string, number> = { s: 1, m: 60, h: 3600 };
  return text.replace(/^(\s+for: )(\d+)([smh])\s*$/gm, (_all, head: string, amount: string, u: string) => {
    const seconds = Math.max(1, Math.round((Number(amount) * (unit[u] ?? 1)) / FOR_COMPRESSION));
    return `${head}${seconds}s`;
  });
}

interface AlertJson {
  readonly labels: Record<string, string>;
  readonly state: string;
}
interface RuleJson {
  readonly name: string;
  readonly type: 'alerting' | 'recording';
  readonly state?: string;
  readonly alerts?: readonly AlertJson[];
}

describe('a real Prometheus over a running DMR system with the shipped rules', () => {
  let rabbit: RabbitVhostHandle;
  let registry: RegistryFile;
  let failingEndpoint: Receiver;
  let workingEndpoint: Receiver;
  let server: RunningServer;
  let agentA: RunningAgent;
  let agentB: RunningAgent;
  let controlPki: ControlPki;
  let control: RunningControl;
  let prometheus: PrivatePrometheus;
  let a: Identity;
  let b: Identity;
  const targets: Record<string, string> = {};

  const alerts = async (name: string): Promise<AlertJson[]> =>
    (await prometheus.api<{ alerts: AlertJson[] }>('alerts')).alerts.filter((alert) => alert.labels.alertname === name);
  const rules = async (): Promise<RuleJson[]> =>
    (await prometheus.api<{ groups: Array<{ rules: RuleJson[] }> }>('rules')).groups.flatMap((group) => group.rules);

  beforeAll(async () => {
    [a, b] = await Promise.all([makeIdentity('ec'), makeIdentity('ec')]);
    rabbit = await useRabbitVhost();
    if (rabbit.prometheusPort === undefined)
      throw new Error('the run’s RabbitMQ node has no rabbitmq_prometheus port (test/global-setup.ts)');
    registry = new RegistryFile([a, b]);
    failingEndpoint = await new Receiver().start();
    failingEndpoint.respondWith(() => 500);
    workingEndpoint = await new Receiver().start();
    controlPki = await makeControlPki();
    control = await startControlProcess(controlPki, rabbit);
    // the failing endpoint is retried far past the test's few seconds: no dead letters (DMRDeadLetterGrowth stays
    // inactive, which the alert test asserts)
    server = await startServer(serverEnv(rabbit, registry.url, { ...OPS, RABBITMQ_DELIVERY_LIMIT: '100000' }));
    agentA = await startAgent(a, server.url, failingEndpoint.url, OPS);
    agentB = await startAgent(b, server.url, workingEndpoint.url, OPS);
    targets.server = `127.0.0.1:${server.server.opsPort}`;
    targets.agentA = `127.0.0.1:${agentA.agent.opsPort}`;
    targets.agentB = `127.0.0.1:${agentB.agent.opsPort}`;
    targets.control = `127.0.0.1:${control.opsPort}`;
    targets.rabbitmq = `127.0.0.1:${rabbit.prometheusPort}`;
    const ruleFiles = Object.fromEntries(
      readdirSync(rulesDir)
        .filter((name) => name.endsWith('.rules.yml'))
        .map((name) => [name, compressFor(readFileSync(join(rulesDir, name), 'utf8'))]),
    );
    prometheus = await startPrometheus({
      files: ruleFiles,
      config: (dir) => `global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
rule_files:
${Object.keys(ruleFiles)
  .map((name) => `  - ${join(dir, name)}`)
  .join('\n')}
scrape_configs:
  - job_name: dmr-server
    static_configs: [{ targets: ['${targets.server}'] }]
  - job_name: dmr-agent
    static_configs:
      - { targets: ['${targets.agentA}'], labels: { agent: '${a.id}' } }
      - { targets: ['${targets.agentB}'], labels: { agent: '${b.id}' } }
  - job_name: dmr-control
    static_configs: [{ targets: ['${targets.control}'] }]
  - job_name: rabbitmq
    static_configs: [{ targets: ['${targets.rabbitmq}'] }]
  - job_name: rabbitmq-queues
    metrics_path: /metrics/detailed
    params: { family: [queue_coarse_metrics], vhost: ['${rabbit.vhost}'] }
    static_configs: [{ targets: ['${targets.rabbitmq}'] }]
`,
    });
  }, 120_000);

  afterAll(async () => {
    await prometheus?.stop();
    await agentA?.agent.stop();
    await agentB?.agent.stop();
    await server?.server.stop();
    if (control && control.proc.child.exitCode === null) {
      control.proc.child.kill('SIGTERM');
      await control.proc.exited;
    }
    await failingEndpoint?.close();
    await workingEndpoint?.close();
    registry?.remove();
    if (controlPki) removeControlPki(controlPki);
    await rabbit?.cleanup();
  });

  it('scrapes every target through its ops port: up == 1 for server, both agents, dmr-control and RabbitMQ', async () => {
    const expected = ['dmr-server', 'dmr-agent', 'dmr-agent', 'dmr-control', 'rabbitmq', 'rabbitmq-queues'].sort();
    await waitUntil(async () => (await prometheus.query('up == 1')).length === expected.length, 20_000, 'every target up').catch(
      async (error: unknown) => {
        throw new Error(`${(error as Error).message}: ${JSON.stringify(await prometheus.query('up'))}`);
      },
    );
    const up = await prometheus.query('up');
    expect(up.map((sample) => sample.metric.job).sort()).toEqual(expected);
    expect(up.every((sample) => sample.value[1] === '1')).toBe(true);
    const agents = await prometheus.query('dmr_agent_socket_connection_active{job="dmr-agent"}');
    expect(Object.fromEntries(agents.map((sample) => [sample.metric.agent, sample.value[1]]))).toEqual({ [a.id]: '1', [b.id]: '1' });
  });

  it('evaluates the recording rules over the real series', async () => {
    // traffic that ends well: A -> B (B's endpoint answers 200), one message every 250 ms while the checks run: a
    // counter's first scraped sample is where rate() starts, so the counts must keep rising across scrapes
    const expectSeries = async (expr: string): Promise<void> =>
      waitUntil(async () => (await prometheus.query(expr)).length > 0, 20_000, `series for ${expr}`);
    let sent = 0;
    let sending = true;
    const traffic = (async () => {
      while (sending) {
        expect((await postMessage(agentA.url, v1Body(b.id))).status).toBe(202);
        sent++;
        await new Promise((done) => setTimeout(done, 250));
      }
    })();
    try {
      await expectSeries(`instance:dmr_agent_messages:rate5m{agent="${a.id}", direction="outbound", result="accepted"} > 0`);
      await expectSeries(`instance:dmr_agent_messages:rate5m{agent="${b.id}", direction="inbound", result="delivered"} > 0`);
      await expectSeries('job:dmr_messages:rate5m{job="dmr-server", stage="inbound", result="queued"} > 0');
      await expectSeries('job:dmr_messages:rate5m{job="dmr-server", stage="delivery", result="delivered"} > 0');
      await expectSeries('job:dmr_message_processing_duration_seconds:p95_5m{job="dmr-server"} > 0');
      await expectSeries('instance:dmr_http_request_duration_seconds:p95_5m{job="dmr-agent"}');
      await expectSeries('instance:dmr_crl_next_update:seconds_left{job="dmr-server"} > 0');
      await expectSeries('job:dmr_config_version:spread{job="dmr-server"} == 0');
    } finally {
      sending = false;
      await traffic;
    }
    await waitUntil(() => workingEndpoint.received.length === sent, 15_000, `${sent} deliveries to B`);
    const recorded = (await rules()).filter((rule) => rule.type === 'recording').map((rule) => rule.name);
    expect(recorded).toHaveLength(shippedRules().filter((rule) => rule.kind === 'record').length);
  });

  it('fires DMRAgentDeliveryFailures for the agent whose endpoint fails, not for the other, and leaves other alerts inactive', async () => {
    // B -> A: A's endpoint answers 500, so A reports failed inbound deliveries (and the server redelivers)
    for (let i = 0; i < 3; i++) expect((await postMessage(agentB.url, v1Body(a.id))).status).toBe(202);
    await waitUntil(() => failingEndpoint.attempts >= 3, 15_000, 'attempts at the failing endpoint');
    await waitUntil(
      async () => (await alerts('DMRAgentDeliveryFailures')).some((alert) => alert.state === 'firing'),
      30_000,
      'DMRAgentDeliveryFailures firing',
    );
    const firing = await alerts('DMRAgentDeliveryFailures');
    expect(firing.map((alert) => [alert.labels.instance, alert.state])).toEqual([[targets.agentA, 'firing']]);
    expect(firing[0]?.labels.severity).toBe('warning');
    expect(await prometheus.query('dmr_messages_total{job="dmr-server", result="dead-lettered"}')).toEqual([]);
    const states = Object.fromEntries((await rules()).filter((rule) => rule.type === 'alerting').map((rule) => [rule.name, rule.state]));
    for (const quiet of [
      'DMRTargetDown',
      'RabbitMQNodeDown',
      'DMRServerMessageRoutingLatencyHigh',
      'DMRBrokerDisconnected',
      'SocketDisconnected',
      'DMRDeadLetterGrowth',
    ]) {
      expect([quiet, states[quiet]]).toEqual([quiet, 'inactive']);
    }
  });

  it('fires DMRTargetDown for a stopped agent only', async () => {
    await agentB.agent.stop();
    await waitUntil(async () => (await alerts('DMRTargetDown')).some((alert) => alert.state === 'firing'), 30_000, 'DMRTargetDown firing');
    const down = await alerts('DMRTargetDown');
    expect(down.map((alert) => [alert.labels.job, alert.labels.instance, alert.state])).toEqual([['dmr-agent', targets.agentB, 'firing']]);
    expect((await prometheus.query('up{job="rabbitmq"}'))[0]?.value[1]).toBe('1');
  });

  it('uses only metric names the targets export, recording rules define, or the pending list names', async () => {
    const exported = new Set<string>(['up']);
    const paths = [
      `http://${targets.server}/metrics`,
      `http://${targets.agentA}/metrics`,
      `http://${targets.control}/metrics`,
      `http://${targets.rabbitmq}/metrics`,
      `http://${targets.rabbitmq}/metrics/detailed?family=queue_coarse_metrics&vhost=${encodeURIComponent(rabbit.vhost)}`,
    ];
    for (const path of paths) for (const name of exposedNames(await (await fetch(path)).text())) exported.add(name);
    const recorded = new Set(
      shippedRules()
        .filter((rule) => rule.kind === 'record')
        .map((rule) => rule.name),
    );
    const used = [
      ...shippedRules().map((rule) => ({ where: `${rule.file} ${rule.name}`, expr: rule.expr })),
      ...dashboardQueries().map((query) => ({ where: `${query.dashboard} "${query.panel}"`, expr: query.expr })),
    ];
    expect(used.length).toBeGreaterThan(40);
    const unknown = used.flatMap(({ where, expr }) =>
      metricNamesIn(expr)
        .filter((name) => !exported.has(name) && !recorded.has(name) && PENDING_METRICS[name] === undefined)
        .map((name) => `${where}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });
});
