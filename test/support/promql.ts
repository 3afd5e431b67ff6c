// Issue 20: what the shipped rules (deploy/prometheus/rules) and dashboards (deploy/grafana) query, so tests can check
// that every metric name they use is one DMR, RabbitMQ's plugin or a recording rule actually produces.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../..');
export const rulesDir = join(repoRoot, 'deploy/prometheus/rules');
export const grafanaDir = join(repoRoot, 'deploy/grafana');

/**
 * Metrics the rules and dashboards use that the code does not export yet, each with the issue that adds it. A name
 * here is accepted without being exported; every other name must be exported (so a typo still fails). Remove an
 * entry once its work is merged (the dashboard test then checks it against the code like any other name).
 */
export const PENDING_METRICS: Readonly<Record<string, string>> = {};

/** Names that are series selectors in PromQL (metric names or recorded series), without functions and keywords. */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // label values and other strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/\[[^\]]*\]/g, ' ') // range and subquery windows
    .replace(/\boffset\s+\S+/g, ' ');
  const keywords = new Set([
    'by',
    'without',
    'on',
    'ignoring',
    'group_left',
    'group_right',
    'bool',
    'and',
    'or',
    'unless',
    'offset',
    'inf',
    'nan',
  ]);
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.])([A-Za-z_:][\w:]*)(\s*\()?/g)) {
    const name = match[1] as string;
    if (match[2] === undefined && !keywords.has(name.toLowerCase())) names.add(name); // a name before ( is a function
  }
  return [...names];
}

/** One rule of the shipped rule files: recording (`record`) or alerting (`alert`), with its expression. */
export interface ShippedRule {
  readonly file: string;
  readonly kind: 'record' | 'alert';
  readonly name: string;
  readonly expr: string;
}

/** Reads the rules of deploy/prometheus/rules (a line-based reader: the files keep one layout, checked by promtool). */
export function shippedRules(): ShippedRule[] {
  const rules: ShippedRule[] = [];
  for (const file of readdirSync(rulesDir).filter((name) => name.endsWith('.rules.yml'))) {
    const lines = readFileSync(join(rulesDir, file), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const head = /^\s*- (record|alert): (\S+)\s*$/.exec(lines[i] as string);
      if (!head) continue;
      const exprLine = lines[i + 1] as string;
      const inline = /^\s*expr: (.+)$/.exec(exprLine);
      let expr = inline?.[1] ?? '';
      if (expr.trim() === '|') {
        const block: string[] = [];
        for (let j = i + 2; j < lines.length && /^\s{10,}\S/.test(lines[j] as string); j++) block.push((lines[j] as string).trim());
        expr = block.join(' ');
      }
      rules.push({ file, kind: head[1] as 'record' | 'alert', name: head[2] as string, expr });
    }
  }
  return rules;
}

/** A dashboard panel query: the dashboard file, panel title and PromQL expression. */
export interface PanelQuery {
  readonly dashboard: string;
  readonly panel: string;
  readonly expr: string;
}

interface PanelJson {
  readonly title?: string;
  readonly targets?: ReadonlyArray<{ readonly expr?: string }>;
  readonly panels?: readonly PanelJson[];
}

/** Every `targets[].expr` of every panel (rows' nested panels included) in deploy/grafana/*.json. */
export function dashboardQueries(): PanelQuery[] {
  const queries: PanelQuery[] = [];
  const visit = (dashboard: string, panel: PanelJson): void => {
    for (const target of panel.targets ?? []) {
      if (target.expr !== undefined) queries.push({ dashboard, panel: panel.title ?? '(untitled)', expr: target.expr });
    }
    for (const inner of panel.panels ?? []) visit(dashboard, inner);
  };
  for (const file of readdirSync(grafanaDir).filter((name) => name.endsWith('.json'))) {
    const json = JSON.parse(readFileSync(join(grafanaDir, file), 'utf8')) as PanelJson;
    for (const panel of json.panels ?? []) visit(file, panel);
  }
  return queries;
}

/**
 * Grafana's built-in variables and the dashboards' own template variables replaced by plain values, so promtool
 * can parse the expression (it does not know `$__rate_interval`).
 */
export function withoutGrafanaVariables(expr: string): string {
  return expr
    .replace(/\$__rate_interval|\$__interval|\$\{__rate_interval\}/g, '5m')
    .replace(/\$\{?job\}?/g, 'dmr-server')
    .replace(/\$\{?agent\}?/g, '.+');
}

/** Metric family names from Prometheus text exposition (`# TYPE` lines), histograms expanded to their series. */
export function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = match as unknown as [string, string, string];
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(`${name}${suffix}`);
    else names.add(name);
  }
  for (const match of text.matchAll(/^([A-Za-z_:][\w:]*)[{ ]/gm)) names.add(match[1] as string);
  return names;
}
