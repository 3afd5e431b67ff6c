// Issue 20: the Grafana dashboards in deploy/grafana are well-formed, every panel query parses (promtool check rules
// over a rule file holding each query as a recording rule), and every DMR metric name they use is defined in the
// code (prom-client definitions in packages/*/src), recorded by a shipped rule, or on the named pending list.
// RabbitMQ's names (rabbitmq_*) are checked against a live scrape of the plugin in test/e2e/prometheus.test.ts, which
// also checks every name here against the live DMR targets.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { METRIC } from '@dmr/shared';
import { runPromtool } from '@dmr/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import {
  dashboardQueries,
  grafanaDir,
  metricNamesIn,
  PENDING_METRICS,
  repoRoot,
  shippedRules,
  withoutGrafanaVariables,
} from '../support/promql.js';

/** Every `.ts` file under `dir`. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/**
 * The metric names the code defines: `METRIC` of @dmr/shared and every `'dmr_…'` literal in packages/*\/src, with a
 * histogram's `_bucket`, `_sum` and `_count` for every `new Histogram({ name: … })`.
 */
function definedMetricNames(): Set<string> {
  const names = new Set<string>(Object.values(METRIC));
  const packagesDir = join(repoRoot, 'packages');
  const sources = readdirSync(packagesDir).flatMap((pkg) => {
    const src = join(packagesDir, pkg, 'src');
    return statSync(src, { throwIfNoEntry: false })?.isDirectory() ? sourceFiles(src) : [];
  });
  const constants = new Map<string, string>(Object.entries(METRIC).map(([key, name]) => [`METRIC.${key}`, name]));
  const histograms: string[] = [];
  for (const file of sources) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(\w+): '(dmr_[a-z0-9_]+)'/g)) {
      names.add(match[2] as string);
      constants.set(`CONTROL_METRIC.${match[1]}`, match[2] as string);
    }
    for (const match of text.matchAll(/new Histogram\(\{\s*name: ([\w.]+|'[^']+')/g)) histograms.push(match[1] as string);
  }
  for (const reference of histograms) {
    const name = reference.startsWith("'") ? reference.slice(1, -1) : constants.get(reference);
    if (name === undefined) throw new Error(`histogram name ${reference} not resolved`);
    for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
  }
  return names;
}

interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly panels: ReadonlyArray<{
    id: number;
    type: string;
    title: string;
    datasource?: { uid: string };
    targets?: ReadonlyArray<{ expr: string; refId: string }>;
  }>;
}

describe('Grafana dashboards (deploy/grafana)', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'dmr-dashboards-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const queries = dashboardQueries();

  it('are dashboards with unique panel ids, a Prometheus data source variable and a query on every panel', () => {
    const files = readdirSync(grafanaDir).filter((name) => name.endsWith('.json'));
    expect(files).toEqual(['dmr-overview.json']);
    for (const file of files) {
      const dashboard = JSON.parse(readFileSync(join(grafanaDir, file), 'utf8')) as Dashboard;
      expect(dashboard.uid).toBe('dmr-overview');
      const ids = dashboard.panels.map((panel) => panel.id);
      expect(new Set(ids).size).toBe(ids.length);
      const graphs = dashboard.panels.filter((panel) => panel.type !== 'row');
      expect(graphs.length).toBeGreaterThanOrEqual(20);
      for (const panel of graphs) {
        expect([panel.title, panel.datasource?.uid]).toEqual([panel.title, `\${datasource}`]);
        expect([panel.title, (panel.targets ?? []).length > 0]).toEqual([panel.title, true]);
      }
    }
    // the overview covers what issue 20 asks for
    const titles = queries.map((query) => query.panel).join('\n');
    for (const topic of ['per agent', 'latency', 'failures', 'DLQ', 'certificate', 'CRL', 'Policy', 'Audit'])
      expect(titles).toContain(topic);
  });

  it('has panel queries that all parse (promtool check rules on a rule file with each query as a recording rule)', async () => {
    const file = join(scratch, 'dashboard-queries.rules.yml');
    const rules = queries.map(
      (query, i) => `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(withoutGrafanaVariables(query.expr))}`,
    );
    writeFileSync(file, `groups:\n  - name: dashboard-queries\n    rules:\n${rules.join('\n')}\n`);
    const result = await runPromtool(['check', 'rules', file]);
    expect(result.exitCode, result.output).toBe(0);
    expect(result.output).toContain(`SUCCESS: ${queries.length} rules found`);
    // and the check is real: a broken query is refused
    writeFileSync(
      file,
      `groups:\n  - name: broken\n    rules:\n      - record: dashboard:broken\n        expr: "sum by (job (rate(x[5m]))"\n`,
    );
    expect((await runPromtool(['check', 'rules', file])).exitCode).toBe(1);
  });

  it('uses only DMR metric names the code defines, shipped recording rules produce, or the pending list names', () => {
    const defined = definedMetricNames();
    const recorded = new Set(
      shippedRules()
        .filter((rule) => rule.kind === 'record')
        .map((rule) => rule.name),
    );
    const dmrNames = queries.flatMap((query) =>
      metricNamesIn(query.expr)
        .filter((name) => !name.startsWith('rabbitmq_'))
        .map((name) => ({ where: `${query.dashboard} "${query.panel}"`, name })),
    );
    expect(dmrNames.length).toBeGreaterThan(30);
    const unknown = dmrNames.filter(({ name }) => !defined.has(name) && !recorded.has(name) && PENDING_METRICS[name] === undefined);
    expect(unknown).toEqual([]);
    // every recorded series a panel uses is built only from defined or pending names
    for (const rule of shippedRules().filter((r) => r.kind === 'record')) {
      const inputs = metricNamesIn(rule.expr).filter((name) => !defined.has(name) && PENDING_METRICS[name] === undefined);
      expect([rule.name, inputs]).toEqual([rule.name, []]);
    }
    // a pending name the code now defines must leave the pending list (its issue is merged: check it like the rest)
    expect(Object.keys(PENDING_METRICS).filter((name) => defined.has(name))).toEqual([]);
    // and the name check catches a typo
    expect(metricNamesIn('sum(rate(dmr_mesages_total[5m]))').filter((name) => !defined.has(name))).toEqual(['dmr_mesages_total']);
  });
});
