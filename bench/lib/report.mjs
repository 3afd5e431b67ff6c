// latest.json (the numbers, for tools) and latest.md (the table people read, committed with the machine description).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';

/** The machine the run happened on. */
export function describeMachine(rabbit) {
  return {
    cores: cpus().length,
    cpu_model: cpus()[0]?.model ?? 'unknown',
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    rabbitmq: rabbit.version,
    erlang: rabbit.erlang,
    kernel: release(),
    load_average_at_start: loadavg().map((value) => Math.round(value * 100) / 100),
  };
}

/** Evaluates the issue's targets against a run's numbers. */
export function evaluateTargets(results) {
  const scaleRow = results.scale?.rows?.find((row) => row.agents >= 5000);
  const check = (name, value, isMet, note) => ({ name, value, met: value === null || value === undefined ? null : isMet, note });
  return [
    check('P-256 throughput ≥ 20 % of ceiling', results.ratio_p256, results.ratio_p256 >= 0.2),
    check('P-256 throughput ≥ 1750 msg/s', results.dmr_p256_msgs_per_s, results.dmr_p256_msgs_per_s >= 1750),
    check('p99 ≤ 20 ms at 200 msg/s', results.p99_ms_at_200, results.p99_ms_at_200 !== null && results.p99_ms_at_200 <= 20),
    check('p99 ≤ 50 ms at 80 % of saturation', results.p99_ms_at_80pct, results.p99_ms_at_80pct !== null && results.p99_ms_at_80pct <= 50),
    check(
      '≥ 5000 idle agents on one instance, < 50 KiB server RSS each',
      scaleRow ? `${scaleRow.connected} agents, ${scaleRow.serverRssKibPerAgent} KiB/agent` : null,
      Boolean(scaleRow && scaleRow.connected >= 5000 && scaleRow.serverRssKibPerAgent < 50),
      scaleRow ? undefined : 'only measured by the full profile',
    ),
    check(
      '5000 agents holding the current list reconnect in ≤ 10 s (scale.connect_5000_s)',
      results.scale?.connect_5000_s,
      results.scale?.connect_5000_s !== null && results.scale?.connect_5000_s <= 10,
      results.scale?.connect_5000_s === null ? 'only measured with 5000 agents (full profile)' : undefined,
    ),
    check(
      '≤ 1024 bytes of list data per reconnect of an up-to-date agent (scale.list_bytes_per_reconnect)',
      results.scale?.list_bytes_per_reconnect,
      results.scale?.list_bytes_per_reconnect !== null && results.scale?.list_bytes_per_reconnect <= 1024,
    ),
    check(
      `2 × overload: p99 of accepted (POST → endpoint) ≤ ${OVERLOAD_BOUND_MS} ms, i.e. it does not grow with the overload`,
      results.overload_accepted_p99_ms,
      results.overload_accepted_p99_ms !== null && results.overload_accepted_p99_ms <= OVERLOAD_BOUND_MS,
    ),
    check(
      'p99 registry push to all 3 servers ≤ 2000 ms (control.push_p99_ms: API write returned → dmr_config_version on every server)',
      results.control?.push_p99_ms,
      results.control?.push_p99_ms !== null && results.control?.push_p99_ms <= 2000,
      results.control?.error ? `control phase failed: ${results.control.error}` : undefined,
    ),
    check(
      'built-in policy decision ≤ 2 µs median at 10 000 rules (policy.builtin_decision_median_us)',
      results.policy?.builtin_decision_median_us,
      results.policy?.builtin_decision_median_us <= 2,
      results.policy?.error ? `policy phase failed: ${results.policy.error}` : undefined,
    ),
    check(
      'built-in policy decision ≤ 10 µs p99 at 10 000 rules (policy.builtin_decision_p99_us)',
      results.policy?.builtin_decision_p99_us,
      results.policy?.builtin_decision_p99_us <= 10,
    ),
    check(
      'P-256 saturation with the built-in engine (10 000 rules) within 3 % of no policy (policy.throughput_ratio ≥ 0.97)',
      results.policy?.throughput_ratio,
      results.policy?.throughput_ratio >= 0.97,
    ),
  ];
}

/**
 * What "p99 of accepted messages stays bounded under 2× overload" is checked against: an order of magnitude below
 * the full profile's 10 s overload, so a latency that grows with the overload's length cannot pass.
 */
const OVERLOAD_BOUND_MS = 1000;

/** Names the process with the largest CPU cost per message in the P-256 throughput run. */
export function nextBottleneck(results) {
  const costs = results.throughput?.p256?.cpuMsPerMsg ?? {};
  const labels = {
    agentA: 'agent A send path (validate, sign+encrypt, emit)',
    server: 'dmr-server (validate, publish+confirm, consume, emit, ack)',
    agentB: 'agent B receive path (decrypt+verify, POST to endpoint)',
    rabbitmq: 'RabbitMQ (quorum queue, persistent, confirms)',
    bench: 'the bench itself (HTTP load generator + receiver)',
  };
  const total = Object.values(costs).reduce((sum, value) => sum + (value ?? 0), 0);
  const [name, cost] = Object.entries(costs).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))[0] ?? ['unknown', 0];
  return {
    process: name,
    description: labels[name] ?? name,
    cpuMsPerMsg: cost,
    shareOfCpu: total ? Math.round((cost / total) * 100) / 100 : null,
    totalCpuMsPerMsg: Math.round(total * 1000) / 1000,
  };
}

/** Writes both files into `dir`. */
export function writeResults(dir, results) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(dir, 'latest.md'), renderMarkdown(results));
}

const fmt = (value, digits = 1) =>
  value === null || value === undefined ? '—' : typeof value === 'number' ? value.toFixed(digits) : String(value);

function renderMarkdown(r) {
  const lines = [
    `# DMR benchmark — ${r.profile} profile`,
    '',
    `Run ${r.started_at}, ${fmt(r.duration_s, 0)} s. Produced by \`npm run bench${r.profile === 'quick' ? ' -- --quick' : ''}\` (see \`bench/README.md\`).`,
    '',
    ...renderMachine(r),
    ...renderHeadline(r),
    ...renderTargets(r),
    ...renderFindings(r),
    ...renderThroughput(r),
    ...renderCrypto(r),
    ...renderLatency(r),
    ...renderOverload(r),
    ...renderScale(r),
    ...renderConditions(r),
  ];
  return `${lines.join('\n')}\n`;
}

function renderMachine(r) {
  const m = r.machine;
  return [
    '## Machine',
    '',
    `${m.cores} cores (${m.cpu_model}), ${m.memory_gib} GiB RAM, Linux ${m.kernel}; Node ${m.node}; RabbitMQ ${m.rabbitmq} (Erlang ${m.erlang}).`,
    `Everything — RabbitMQ, dmr-server, agents, load generator and receiver — runs on these ${m.cores} cores.`,
    `Load average at start: ${m.load_average_at_start.join(', ')}.${(m.busiest_processes_at_start ?? []).length ? ` Busiest other processes just before the run: ${m.busiest_processes_at_start.map((p) => `\`${p.command}\` (${p.cores} cores)`).join(', ')}.` : ''}`,
    '',
  ];
}

function renderHeadline(r) {
  return [
    '## Headline',
    '',
    '| measure | value |',
    '|---|---|',
    `| broker ceiling: raw amqplib, ${r.ceiling.messageBytes}-byte messages, DMR's windows (confirm window ${r.ceiling.window} = concurrent senders, prefetch ${r.ceiling.prefetch}) | ${fmt(r.ceiling_msgs_per_s, 0)} msg/s (RabbitMQ ${fmt(r.ceiling.cpuMsPerMsg.rabbitmq, 3)} ms CPU/msg) |`,
    `| broker ceiling with wide windows (confirm window ${r.ceiling_wide.window}, prefetch ${r.ceiling_wide.prefetch}), for context | ${fmt(r.ceiling_wide_window_msgs_per_s, 0)} msg/s (RabbitMQ ${fmt(r.ceiling_wide.cpuMsPerMsg.rabbitmq, 3)} ms CPU/msg) |`,
    `| DMR A→B, EC P-256 | ${fmt(r.dmr_p256_msgs_per_s, 0)} msg/s (${fmt(r.ratio_p256 * 100)} % of ceiling${(r.throughput.p256.rounds ?? []).length > 1 ? ', median of paired rounds' : ''}) |`,
    `| DMR A→B, RSA-2048 | ${fmt(r.dmr_rsa_msgs_per_s, 0)} msg/s (${fmt(r.ratio_rsa * 100)} % of ceiling) |`,
    `| p99 at 200 msg/s | ${fmt(r.p99_ms_at_200)} ms (the broker alone: ${fmt(r.broker_p99_ms_at_200)} ms) |`,
    `| p99 at 80 % of saturation (${fmt(r.rate_80pct, 0)} msg/s) | ${fmt(r.p99_ms_at_80pct)} ms |`,
    `| overload 2 × saturation: answered 503 / p99 of accepted | ${fmt(r.overload_503_rate * 100)} % / ${fmt(r.overload_accepted_p99_ms)} ms |`,
    `| agents connected to one server | ${r.agents_connected} |`,
    `| server RSS per connected agent | ${fmt(r.server_rss_kib_per_agent)} KiB |`,
    '',
  ];
}

function renderTargets(r) {
  const rows = r.targets.map(
    (t) =>
      `| ${t.name} | ${fmt(t.value, 2)} | ${t.met === null ? 'not measured' : t.met ? '**met**' : '**not met**'} ${t.note ? `(${t.note})` : ''} |`,
  );
  const b = r.next_bottleneck;
  return [
    '## Targets',
    '',
    '| target | measured | status |',
    '|---|---|---|',
    ...rows,
    '',
    `**Next bottleneck:** ${b.description} — ${fmt(b.cpuMsPerMsg, 3)} ms CPU per message, ${fmt((b.shareOfCpu ?? 0) * 100, 0)} % of the ${fmt(b.totalCpuMsPerMsg, 3)} ms all processes spend per P-256 message (at 2 cores, ${fmt(2000 / (b.totalCpuMsPerMsg || 1), 0)} msg/s is the CPU-bound limit).`,
    '',
  ];
}

function renderFindings(r) {
  const t = r.throughput.p256;
  const total = Object.values(t.cpuMsPerMsg).reduce((sum, value) => sum + (value ?? 0), 0);
  const ec = (r.crypto_cost ?? []).find((c) => c.kind === 'ec');
  const at200 = r.latency.find((l) => l.targetRate === 200);
  const lines = [
    `- **CPU is the limit, and every hop shares the same ${r.machine.cores} cores.** At saturation one P-256 message costs ${fmt(total, 2)} ms of CPU summed over agent A, server, agent B, RabbitMQ and the bench's own load generator and receiver (table below), while the machine was ${fmt(t.machineCoresBusy, 2)} cores busy (${fmt(t.foreignCoresBusy, 2)} of them not ours). ${r.machine.cores} cores ÷ ${fmt(total, 2)} ms ≈ ${fmt((r.machine.cores * 1000) / total, 0)} msg/s; 1750 msg/s would need ≤ ${fmt((r.machine.cores * 1000) / 1750, 2)} ms per message for everything.`,
  ];
  if (ec) {
    lines.push(
      `- **Envelope crypto** is ${fmt(ec.dmrSealMs + ec.dmrOpenMs, 2)} ms per P-256 message with an ephemeral key per message (seal ${fmt(ec.dmrSealMs, 3)} + open ${fmt(ec.dmrOpenMs, 3)}; jose 6 took ${fmt(ec.joseSealMs + ec.joseOpenMs, 2)} ms): one ephemeral key and two key agreements (ECDH-ES), one ES256 signature and one verification.${renderReuse(ec)}${renderEcdhBackend(r.ecdh_backend)}`,
    );
  }
  if (at200) {
    lines.push(
      `- **Latency at 200 msg/s**: p50 ${fmt(at200.latencyMs.p50, 2)} ms, p99 ${fmt(at200.latencyMs.p99, 2)} ms (POST → 202 alone: p99 ${fmt(at200.acceptLatencyMs.p99, 2)} ms); the broker alone at the same rate: p99 ${fmt(r.broker_p99_ms_at_200, 2)} ms. The tail comes in bursts of consecutive messages (stalls of tens of ms on one hop: quorum-queue fsync and CPU contention on the shared cores), not from a steady per-message cost.`,
    );
  }
  lines.push(
    `- **Overload**: at 2 × saturation the agent refused ${fmt(r.overload_503_rate * 100)} % with 503 \`DMR_LINK_BACKPRESSURE\` + \`Retry-After\`; accepted messages: POST → 202 p50 ${fmt(r.overload.acceptLatencyMs.p50, 0)} ms, p99 ${fmt(r.overload.acceptLatencyMs.p99, 0)} ms, POST → endpoint p99 ${fmt(r.overload_accepted_p99_ms, 0)} ms; ${r.overload.missing} accepted messages lost. The load generator had a socket for each request within ${fmt(r.overload.poolWaitMs?.p99, 0)} ms (p99) and sent on time (lag p99 ${fmt(r.overload.sendLagMs?.p99, 0)} ms); ${r.overload.acceptLatencyMs.p99 > 1000 ? 'so the wait is in agent A, before it reads a request (its admission limits act only on requests it has read)' : 'what latency there is comes from agent A and the hops behind it'}. Cores used in the overload run: ${JSON.stringify(r.overload.coresByProcess ?? {})}. ${r.overload_accepted_p99_ms <= OVERLOAD_BOUND_MS ? 'Bounded: the in-flight window (`DMR_MAX_IN_FLIGHT_SENDS`) keeps accepted work to what the agent can seal promptly and refuses the rest cheaply.' : 'Not bounded here: the accepted p99 grows with the length of the overload.'}`,
  );
  const storms = r.scale.reconnect;
  if (storms?.versioned?.connectMs !== undefined && storms?.fullList?.connectMs !== undefined) {
    lines.push(
      `- **Reconnect storms** (${storms.agents} agents dropped and reconnected at once, ${storms.concurrency} handshakes in flight): agents holding the current versioned list got ${fmt(storms.versioned.listBytesPerAgent, 0)} bytes of list data each and all connected in ${fmt(storms.versioned.connectMs / 1000, 1)} s (${fmt(storms.versioned.serverCpuMsPerConnect, 2)} ms of server CPU each); seed 003-style agents got the whole list (${fmt(storms.fullList.listBytesPerAgent / 1024, 0)} KiB with certificates) and took ${fmt(storms.fullList.connectMs / 1000, 1)} s (${fmt(storms.fullList.serverCpuMsPerConnect, 2)} ms each).`,
    );
  }
  return ['## Findings', '', ...lines, ''];
}

function renderThroughput(r) {
  const procs = ['agentA', 'server', 'agentB', 'rabbitmq', 'bench'];
  const row = (t) =>
    `| ${t.label} | ${fmt(t.msgsPerS, 0)} | ${t.concurrency} | ${t.accepted} | ${t.missing} | ${procs.map((p) => fmt(t.cpuMsPerMsg[p], 3)).join(' | ')} | ${fmt(t.machineCoresBusy, 2)} | ${fmt(t.foreignCoresBusy, 2)} |`;
  return [
    '## Saturation throughput and CPU per message',
    '',
    'Closed loop, keep-alive HTTP, delivered-to-endpoint rate in the measure window. CPU from `/proc/<pid>/stat` (utime+stime) over the whole run ÷ messages delivered.',
    '',
    '| keys | msg/s | senders | accepted | lost | agent A send ms | server ms | agent B receive ms | RabbitMQ ms | bench ms | cores busy | foreign cores |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    row(r.throughput.p256),
    row(r.throughput.rsa),
    '',
    ...renderRounds(r.throughput.p256.rounds, r.ceiling_msgs_per_s, r.ratio_p256_standalone_ceiling),
  ];
}

/** The paired P-256 rounds: each DMR run right after a short ceiling run of its own; the headline takes the medians. */
function renderRounds(rounds, standaloneCeiling, standaloneRatio) {
  if (!rounds || rounds.length < 2) return [];
  const procs = ['agentA', 'server', 'agentB', 'rabbitmq', 'bench'];
  return [
    `P-256 was measured in ${rounds.length} rounds, each right after a short ceiling run with the same windows (the machine's speed drifts within minutes); the row above is the median round, and the headline ratio is the median of the rounds' own ratios. Against the standalone ceiling at the start of the run (${fmt(standaloneCeiling, 0)} msg/s, idle broker, longer run) the median round is ${fmt(standaloneRatio === null ? null : standaloneRatio * 100)} %: the paired ceilings run lower, on a broker that carries DMR's queues and consumers and has just relayed a DMR run.`,
    '',
    '| round | DMR msg/s | ceiling msg/s just before | ratio | CPU ms/msg (A, server, B, RabbitMQ, bench) |',
    '|---|---|---|---|---|',
    ...rounds.map(
      (round, index) =>
        `| ${index + 1} | ${fmt(round.msgsPerS, 0)} | ${fmt(round.ceilingMsgsPerS, 0)} | ${fmt(round.ratio === null ? null : round.ratio * 100)} % | ${procs.map((p) => fmt(round.cpuMsPerMsg[p], 3)).join(', ')} |`,
    ),
    '',
  ];
}

function renderReuse(ec) {
  if (ec.dmrSealReusedMs === undefined) return '';
  return ` With the agent's default of reusing an ephemeral key per recipient for up to 1 s (\`DMR_ECDH_EPHEMERAL_REUSE_MS\`; the recipient remembers the agreement), a busy link pays for the key agreement about once a second, and a message costs ${fmt(ec.dmrSealReusedMs + ec.dmrOpenReusedMs, 2)} ms (seal ${fmt(ec.dmrSealReusedMs, 3)} + open ${fmt(ec.dmrOpenReusedMs, 3)}), mostly the signature and its verification.`;
}

function renderEcdhBackend(ecdh) {
  if (!ecdh) return '';
  return ` P-256 key agreement (${ecdh.backend} backend, see \`packages/native-ecdh\`): static ${ecdh.staticUs} µs, ephemeral key + agreement ${ecdh.ephemeralUs} µs; through node:crypto ${ecdh.nodeStaticUs} / ${ecdh.nodeEphemeralUs} µs.`;
}

function renderCrypto(r) {
  const line = (label, c, seal, open) =>
    `| ${label} | ${fmt(seal, 3)} | ${fmt(open, 3)} | ${fmt(c.joseSealMs, 3)} | ${fmt(c.joseOpenMs, 3)} | ${fmt((c.joseSealMs + c.joseOpenMs) / (seal + open), 1)}× |`;
  const row = (c) =>
    c.kind === 'ec'
      ? [
          line('EC P-256 (ES256 + ECDH-ES+A256KW), ephemeral key per message', c, c.dmrSealMs, c.dmrOpenMs),
          ...(c.dmrSealReusedMs === undefined
            ? []
            : [line('EC P-256, ephemeral key reused for 1 s (agent default)', c, c.dmrSealReusedMs, c.dmrOpenReusedMs)]),
        ]
      : [line('RSA-2048 (RS256 + RSA-OAEP-256)', c, c.dmrSealMs, c.dmrOpenMs)];
  return [
    '## Envelope crypto per message (CPU ms, one core, ~1 KB payload)',
    '',
    "DMR's own JOSE path (node:crypto for RSA; P-256 key agreement, ES256, A256GCM and A256KW through `@dmr/native-ecdh`; standard compact JWS inside compact JWE, interoperable with jose both ways — see `packages/shared/test/unit/jose-interop.test.ts`) against the same envelope built with jose 6 (WebCrypto).",
    '',
    '| keys | DMR seal | DMR open | jose seal | jose open | speed-up |',
    '|---|---|---|---|---|---|',
    ...(r.crypto_cost ?? []).flatMap(row),
    '',
  ];
}

function renderLatency(r) {
  const row = (l) =>
    `| ${fmt(l.targetRate, 0)} | ${l.achievedSendRate} | ${l.sent} | ${l.accepted} | ${l.statuses[503] ?? 0} | ${l.missing} | ${fmt(l.latencyMs.p50, 2)} | ${fmt(l.latencyMs.p95, 2)} | ${fmt(l.latencyMs.p99, 2)} | ${fmt(l.latencyMs.max, 2)} | ${fmt(l.foreignCoresBusy, 2)} |`;
  return [
    '## Latency (EC P-256, open loop)',
    '',
    "Fixed-rate schedule; latency = arrival at B's endpoint − *scheduled* send time (no coordinated omission).",
    '',
    '| target msg/s | sent msg/s | sent | accepted | 503 | lost | p50 ms | p95 ms | p99 ms | max ms | foreign cores |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...r.latency.map(row),
    '',
    ...r.latency.filter((l) => l.rounds).map(renderLatencyRounds),
    `Latency floor of the broker alone (raw amqplib, open loop at ${r.broker_latency_at_200.rate} msg/s, publish persistent → confirm → consume, same message size): p50 ${fmt(r.broker_latency_at_200.latencyMs.p50, 2)} ms, p95 ${fmt(r.broker_latency_at_200.latencyMs.p95, 2)} ms, p99 ${fmt(r.broker_latency_at_200.latencyMs.p99, 2)} ms, max ${fmt(r.broker_latency_at_200.latencyMs.max, 2)} ms.`,
    '',
  ];
}

function renderLatencyRounds(l) {
  const each = l.rounds
    .map(
      (round) =>
        `saturation ${fmt(round.saturationMsgsPerS, 0)} msg/s → ${fmt(round.targetRate, 0)} msg/s: p99 ${fmt(round.latencyMs.p99, 1)} ms (${round.statuses[503] ?? 0} answered 503)`,
    )
    .join('; ');
  const pooled =
    l.rounds.length > 1
      ? `${l.rounds.length} rounds of ${fmt(l.plannedMs / l.rounds.length / 1000, 0)} s, pooled (percentiles over all their messages); `
      : '';
  return `The 80 % row (${fmt(l.targetRate, 0)} msg/s on average): ${pooled}each round runs right after a short closed-loop saturation probe, at 80 % of what that probe measured. ${each}.\n`;
}

function renderOverload(r) {
  const o = r.overload;
  return [
    '## Overload (2 × saturation, open loop)',
    '',
    `Offered ${fmt(o.targetRate, 0)} msg/s (sent ${o.achievedSendRate} msg/s) for ${fmt(o.plannedMs / 1000, 0)} s: ${o.sent} sent, ${o.accepted} accepted, **${fmt(o.rate503 * 100)} % answered 503** (\`DMR_LINK_BACKPRESSURE\`, \`Retry-After\`), statuses ${JSON.stringify(o.statuses)}, ${o.missing} accepted messages not delivered.`,
    '',
    '| of accepted messages | p50 ms | p95 ms | p99 ms | max ms |',
    '|---|---|---|---|---|',
    `| POST → 202 | ${fmt(o.acceptLatencyMs.p50, 2)} | ${fmt(o.acceptLatencyMs.p95, 2)} | ${fmt(o.acceptLatencyMs.p99, 2)} | ${fmt(o.acceptLatencyMs.max, 2)} |`,
    `| POST → endpoint | ${fmt(o.latencyMs.p50, 2)} | ${fmt(o.latencyMs.p95, 2)} | ${fmt(o.latencyMs.p99, 2)} | ${fmt(o.latencyMs.max, 2)} |`,
    '',
  ];
}

function renderScale(r) {
  const s = r.scale;
  if (s.error || s.rows.length === 0) return ['## Scale', '', `Not measured: ${s.error ?? 'skipped (--no-scale)'}.`, ''];
  const row = (x) =>
    `| ${x.agents} | ${x.connected} | ${x.failed} | ${fmt(x.connectMs / 1000, 1)} | ${fmt(x.serverCpuMsForConnects / Math.max(1, x.connected), 2)} | ${fmt(x.serverRssKib / 1024, 0)} | ${fmt(x.serverRssKibPerAgent)} | ${fmt(x.serverHeapUsedKibPerAgent)} | ${fmt(x.listBytesPerConnect ?? 0, 0)} | ${x.roundTripMs.error ? `failed: ${x.roundTripMs.error.replace('simulator roundTrips: ', '')} |  ` : `${fmt(x.roundTripMs.p50, 1)} | ${fmt(x.roundTripMs.max, 1)}`} |`;
  return [
    '## Scale (one server instance, light simulated agents)',
    '',
    `Registry of ${s.registryAgents} agents (P-256 keys generated in ${s.keygenMs} ms); the server was ready after ${fmt(s.serverReadyMs / 1000, 1)} s (2 quorum queues per agent declared); base RSS ${fmt(s.rows[0]?.serverBaseRssKib / 1024, 0)} MiB with nobody connected.`,
    'Round trip = ping A→B then pong B→A between two of the connected agents (sealed, relayed through RabbitMQ, opened).',
    '',
    '| agents | connected | failed | connect all (s) | server CPU ms per connect | server RSS MiB | RSS KiB per agent | JS heap KiB per agent | list bytes per connect | round trip p50 ms | max ms |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...s.rows.map(row),
    '',
    ...renderStorms(s),
  ];
}

function renderStorms(s) {
  const storms = s.reconnect;
  if (!storms) return [];
  const row = (label, x) =>
    x?.error
      ? `| ${label} | failed: ${x.error} | | | | |`
      : `| ${label} | ${x.connected} | ${x.failed} | ${fmt(x.connectMs / 1000, 1)} | ${fmt(x.serverCpuMsPerConnect, 2)} | ${fmt(x.listBytesPerAgent, 0)} |`;
  return [
    `Reconnect storms: all ${storms.agents} agents dropped, then connected again (${storms.concurrency} handshakes in flight), as after a failover. The rows above connect agents that announce the registry's list version; the list each agent would get without it is the full-list row here (certificates from the run's CA, ${fmt(s.registryBytes / 1024, 0)} KiB registry; issued in ${fmt(s.certifyMs / 1000, 1)} s).`,
    '',
    '| agents | connected | failed | connect all (s) | server CPU ms per connect | list bytes per agent |',
    '|---|---|---|---|---|---|',
    row('holding the current list (`agent-list-delta` + `agentListVersion`)', storms.versioned),
    row('seed 003 style (full list each)', storms.fullList),
    '',
  ];
}

function renderConditions(r) {
  return [
    '## Conditions',
    '',
    `- Settings: ${JSON.stringify(r.settings)}.`,
    `- "foreign cores" = machine busy time not used by the bench's own processes (other tenants), in cores; high values mean the numbers are pessimistic.`,
    ...(r.notes ?? []).map((note) => `- ${note}`),
    '',
  ];
}
