#!/usr/bin/env node
// Summarises Stryker JSON reports (mutation-testing-report-schema) as Markdown: the score per mutated file and
// overall, then every surviving / uncovered mutant with its place, so each can be killed or explained.
// Usage: node scripts/mutation-summary.mjs reports/mutation/mutation.json [more.json ...]
import { readFileSync } from 'node:fs';

const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

const files = new Map();
for (const path of process.argv.slice(2)) {
  const report = JSON.parse(readFileSync(path, 'utf8'));
  for (const [name, file] of Object.entries(report.files)) files.set(name, file.mutants);
}

const count = (mutants) => {
  const by = (status) => mutants.filter((mutant) => mutant.status === status).length;
  const detected = mutants.filter((mutant) => DETECTED.has(mutant.status)).length;
  const undetected = mutants.filter((mutant) => UNDETECTED.has(mutant.status)).length;
  return {
    killed: by('Killed'),
    timeout: by('Timeout'),
    survived: by('Survived'),
    noCoverage: by('NoCoverage'),
    invalid: by('CompileError') + by('RuntimeError'),
    ignored: by('Ignored'),
    // Stryker's own definition: detected / (detected + undetected); compile errors and ignored mutants do not count.
    score: detected + undetected === 0 ? 100 : (100 * detected) / (detected + undetected),
  };
};

const row = (name, c) =>
  `| ${name} | ${c.score.toFixed(2)} | ${c.killed} | ${c.timeout} | ${c.survived} | ${c.noCoverage} | ${c.invalid} |`;
const names = [...files.keys()].sort();
const lines = [
  '| File | Score % | Killed | Timeout | Survived | No coverage | Invalid (type error) |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...names.map((name) => row(name, count(files.get(name)))),
  row('**All measured files**', count(names.flatMap((name) => files.get(name)))),
  '',
  '### Undetected mutants',
  '',
];
for (const name of names) {
  for (const mutant of files.get(name).filter((m) => UNDETECTED.has(m.status))) {
    const at = `${name}:${mutant.location.start.line}:${mutant.location.start.column}`;
    const replacement = (mutant.replacement ?? '').replace(/\s+/g, ' ').slice(0, 80);
    lines.push(`- ${at} ${mutant.status} ${mutant.mutatorName}: \`${replacement.replaceAll('`', "'")}\``);
  }
}
console.log(lines.join('\n'));
