// Issue 20: the shipped Prometheus rules (deploy/prometheus/rules) are valid (`promtool check rules`), their unit
// tests pass (`promtool test rules deploy/prometheus/tests/*.test.yml`), every alert has a test, and those tests are
// able to fail. promtool from Debian's prometheus package (scripts/ensure-prometheus.sh).
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runPromtool } from '@dmr/testkit';
import { afterAll, describe, expect, it } from 'vitest';

const deployDir = resolve(import.meta.dirname, '../../deploy/prometheus');
const rulesDir = join(deployDir, 'rules');
const testsDir = join(deployDir, 'tests');
const ruleFiles = readdirSync(rulesDir)
  .filter((name) => name.endsWith('.rules.yml'))
  .map((name) => join(rulesDir, name));
const testFiles = readdirSync(testsDir)
  .filter((name) => name.endsWith('.test.yml'))
  .map((name) => join(testsDir, name));

/** The `- alert: <name>` entries of the rule files. */
function alertNames(): string[] {
  return ruleFiles.flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/^\s*- alert: (\S+)\s*$/gm)].map((m) => m[1] as string));
}

describe('shipped Prometheus rules (promtool)', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'dmr-rules-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('has rule files and unit tests to check', () => {
    expect(ruleFiles.map((file) => file.slice(rulesDir.length + 1)).sort()).toEqual([
      'dmr-alerts.rules.yml',
      'dmr-recording.rules.yml',
      'rabbitmq-alerts.rules.yml',
    ]);
    expect(testFiles.length).toBeGreaterThanOrEqual(4);
  });

  it('passes promtool check rules', async () => {
    const result = await runPromtool(['check', 'rules', ...ruleFiles]);
    expect(result.output).not.toMatch(/FAILED/);
    expect(result.exitCode, result.output).toBe(0);
    expect(result.output.match(/SUCCESS: \d+ rules found/g)).toHaveLength(ruleFiles.length);
  });

  it('passes promtool check config on the example configuration (which loads every rule file)', async () => {
    const result = await runPromtool(['check', 'config', join(deployDir, 'prometheus.example.yml')]);
    expect(result.exitCode, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS: 3 rule files found');
  });

  it('passes promtool test rules, and every alert has a test that expects it to fire', async () => {
    const result = await runPromtool(['test', 'rules', ...testFiles]);
    expect(result.exitCode, result.output).toBe(0);
    expect(result.output.match(/SUCCESS/g)).toHaveLength(testFiles.length);
    const tests = testFiles.map((file) => readFileSync(file, 'utf8')).join('\n');
    // an alert_rule_test entry that names the alert and lists at least one expected alert (fires)
    const firing = new Set([...tests.matchAll(/alertname: (\S+)\n\s+exp_alerts:\n\s+- exp_labels/g)].map((m) => m[1] as string));
    const names = alertNames();
    expect(names.length).toBe(24);
    expect(names.filter((name) => !firing.has(name))).toEqual([]);
  });

  it('has tests that fail when a rule changes (a changed severity, a changed threshold)', async () => {
    cpSync(deployDir, join(scratch, 'prometheus'), { recursive: true });
    const alerts = join(scratch, 'prometheus/rules/dmr-alerts.rules.yml');
    const original = readFileSync(alerts, 'utf8');
    const changes: Array<[string, string]> = [
      [
        'dmr_broker_connected{job="dmr-server"} == 0\n        for: 1m\n        labels:\n          severity: critical',
        'dmr_broker_connected{job="dmr-server"} == 0\n        for: 1m\n        labels:\n          severity: warning',
      ],
      ['(dmr_certificate_expiry_seconds - time()) < 14 * 86400', '(dmr_certificate_expiry_seconds - time()) < 7 * 86400'],
      ['dmr_agent_socket_connection_active{job="dmr-agent"} > 1', 'dmr_agent_socket_connection_active{job="dmr-agent"} >= 1'],
    ];
    for (const [from, to] of changes) {
      expect(original).toContain(from);
      writeFileSync(alerts, original.replace(from, to));
      const result = await runPromtool([
        'test',
        'rules',
        join(scratch, 'prometheus/tests/dmr-alerts.test.yml'),
        join(scratch, 'prometheus/tests/seed003-alerts.test.yml'),
      ]);
      expect(result.exitCode, `${to}\n${result.output}`).toBe(1);
      expect(result.output).toContain('FAILED');
    }
  });
});
