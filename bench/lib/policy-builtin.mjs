// Micro-benchmark of the built-in policy engine (issue #19, docs/policy.md "Bench keys"): one decision against a
// realistic 10 000-rule document (300 institutions, 3000 agents, registry and nested policy groups, types, windows,
// 1 in 8 rules a deny). Each sample times a batch of decisions with process.hrtime.bigint and divides by the batch
// size, so the timer's own cost stays small next to a decision. `node bench/lib/policy-builtin.mjs` prints the numbers.
import { compilePolicy, decidePolicy, parsePolicyDocument, policyTime } from '@dmr/shared/policy';

const RULES = 10_000;
const INSTITUTIONS = 300;
const AGENTS = 3000;
const REGISTRY_GROUPS = 120;
const POLICY_GROUPS = 200;
const TYPES = ['ChatMessage', 'Report', 'Ping', 'Alert'];
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The registry: agents with an institution (a few without) and 0–3 registry groups. */
export function generateAgents(random = seededRandom(1)) {
  const pick = (n) => Math.floor(random() * n);
  return Array.from({ length: AGENTS }, (_, i) => ({
    id: `agent-${i}`,
    institution: random() < 0.05 ? '' : `inst-${pick(INSTITUTIONS)}`,
    groups: Array.from({ length: pick(4) }, () => `team-${pick(REGISTRY_GROUPS)}`),
  }));
}

/** A 10 000-rule dmr-policy/v1 document over `agents`. */
export function generateDocument(agents, random = seededRandom(2)) {
  const pick = (n) => Math.floor(random() * n);
  const groups = {};
  for (let g = 0; g < POLICY_GROUPS; g++) {
    const group = { agents: Array.from({ length: 5 }, () => agents[pick(AGENTS)].id), institutions: [`inst-${pick(INSTITUTIONS)}`] };
    // Nest only into higher-numbered groups: no cycles, depth bounded by the 1-in-4 chance per level.
    if (g + 1 < POLICY_GROUPS && random() < 0.25)
      group.groups = [`pg-${g + 1 + pick(Math.min(5, POLICY_GROUPS - g - 1))}`, `team-${pick(REGISTRY_GROUPS)}`];
    groups[`pg-${g}`] = group;
  }
  const selector = () => {
    const kind = random();
    if (kind < 0.35) return { institutions: [`inst-${pick(INSTITUTIONS)}`, `inst-${pick(INSTITUTIONS)}`] };
    if (kind < 0.6) return { agents: Array.from({ length: 3 }, () => agents[pick(AGENTS)].id) };
    if (kind < 0.8) return { groups: [random() < 0.5 ? `pg-${pick(POLICY_GROUPS)}` : `team-${pick(REGISTRY_GROUPS)}`] };
    if (kind < 0.95) return { institutions: [`inst-${pick(INSTITUTIONS)}`], groups: [`pg-${pick(POLICY_GROUPS)}`] };
    return undefined;
  };
  const rules = Array.from({ length: RULES }, (_, i) => {
    const rule = { id: `rule-${i}`, effect: random() < 0.125 ? 'deny' : 'allow' };
    const from = selector();
    const to = selector() ?? (from === undefined ? { institutions: [`inst-${pick(INSTITUTIONS)}`] } : undefined);
    if (from) rule.from = from;
    if (to) rule.to = to;
    if (random() < 0.3) rule.types = [TYPES[pick(TYPES.length)]];
    if (random() < 0.2) rule.window = { days: DAYS.slice(0, 5), from: '07:00', to: '19:00' };
    rule.description = `generated rule ${i} for the built-in engine benchmark`;
    return rule;
  });
  return { format: 'dmr-policy/v1', defaultDecision: 'deny', timeZone: 'Europe/Tallinn', groups, rules };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

/**
 * Measures the built-in engine: compiles a generated 10 000-rule document, then times `samples` batches of `batch`
 * decisions (random sender and recipient from the registry, random type, the current time through policyTime).
 * Returns {medianUs, p99Us, rules, documentBytes, parseMs, compileMs, allowShare}.
 */
export function measureBuiltinPolicy({ samples = 20_000, batch = 10, warmup = 50_000 } = {}) {
  const agents = generateAgents();
  const document = generateDocument(agents);
  const documentBytes = Buffer.byteLength(JSON.stringify(document));
  let started = process.hrtime.bigint();
  const parsed = parsePolicyDocument(document);
  const parseMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (!parsed.ok) throw new Error(`generated policy refused: ${parsed.field}: ${parsed.message}`);
  started = process.hrtime.bigint();
  const compiled = compilePolicy(parsed.document, 1);
  const compileMs = Number(process.hrtime.bigint() - started) / 1e6;

  const random = seededRandom(3);
  const inputs = Array.from({ length: 4096 }, () => {
    const sender = agents[Math.floor(random() * AGENTS)];
    return {
      sender: { ...sender, certificate: { subject: `CN=${sender.id}`, serial: '01' } },
      recipient: agents[Math.floor(random() * AGENTS)],
      message: { type: TYPES[Math.floor(random() * TYPES.length)] },
    };
  });
  const baseMs = Date.now();
  let allowed = 0;
  let next = 0;
  const decide = () => {
    const input = inputs[next++ & 4095];
    const time = policyTime(baseMs + next * 3, compiled.timeZone);
    if (decidePolicy(compiled, { sender: input.sender, recipient: input.recipient, message: input.message, time }).allow) allowed++;
  };
  for (let i = 0; i < warmup; i++) decide();
  allowed = 0;
  const perDecisionUs = new Float64Array(samples);
  for (let s = 0; s < samples; s++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) decide();
    perDecisionUs[s] = Number(process.hrtime.bigint() - t0) / 1000 / batch;
  }
  const sorted = Array.from(perDecisionUs).sort((a, b) => a - b);
  const round = (value) => Math.round(value * 1000) / 1000;
  return {
    medianUs: round(percentile(sorted, 50)),
    p99Us: round(percentile(sorted, 99)),
    rules: RULES,
    documentBytes,
    parseMs: Math.round(parseMs),
    compileMs: Math.round(compileMs),
    allowShare: round(allowed / (samples * batch)),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(measureBuiltinPolicy())}\n`);
}
