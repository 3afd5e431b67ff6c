// The control plane phase (issue 18): dmr-control (SQLite, push on the bench's RabbitMQ node) and 3 dmr-server
// processes reading their registry from it. Measures one bulk import, push latency (API write returned → every server
// runs the new configVersion, read from `dmr_config_version` on its /metrics) and admin API latency over mTLS, each
// with a baseline on the same listener (GET /v1/health over the same kept-alive mTLS connection).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { initCa, issueAdminCertificate, issueServerCertificate } from '@dmr/control';
import { findFreePorts } from '@dmr/testkit';
import { launch, ROOT, waitHttpOk } from './children.mjs';
import { summarise } from './load.mjs';
import { createBenchVhost, startServer } from './system.mjs';

const CONTROL_BIN = join(process.env.BENCH_DMR_ROOT ?? ROOT, 'packages/control/dist/service/main.js');
const SERVERS = 3;
const PUSH_TIMEOUT_MS = 30_000;

/** One HTTPS call over `agent` (kept alive, admin client certificate); resolves `{status, headers, json}`. */
function call(agent, port, method, path, body, headers = {}) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        servername: 'localhost',
        headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode, headers: res.headers, json: text ? JSON.parse(text) : undefined });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function expectStatus(promise, status, what) {
  const answer = await promise;
  if (answer.status !== status) throw new Error(`${what}: HTTP ${answer.status} ${JSON.stringify(answer.json)}`);
  return answer;
}

/** Times `count` sequential calls of `fn`; returns the latency summary in ms. */
async function timed(count, fn) {
  const samples = [];
  for (let i = 0; i < count; i += 1) {
    const t0 = performance.now();
    await fn(i);
    samples.push(performance.now() - t0);
  }
  return summarise(samples);
}

async function makePki(runDir) {
  const dir = join(runDir, 'control-pki');
  const caDir = join(dir, 'ca');
  await initCa({ dir: caDir, commonName: 'DMR Bench Control CA' });
  await issueServerCertificate(
    caDir,
    { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] },
    { outDir: join(dir, 'certs'), name: 'control' },
  );
  const admin = await issueAdminCertificate(caDir, 'admin', 'bench', { outDir: join(dir, 'certs') });
  return { dir, caDir, caFile: join(caDir, 'ca.cert.pem'), cert: readFileSync(admin.certificatePath), key: readFileSync(admin.keyPath) };
}

async function startControl({ node, vhost, runDir, logDir, pki }) {
  const [port, opsPort] = await findFreePorts(2);
  const proc = launch(
    'dmr-control',
    CONTROL_BIN,
    {
      DMR_CONTROL_HOST: '127.0.0.1',
      DMR_CONTROL_PORT: String(port),
      DMR_OPS_PORT: String(opsPort),
      DMR_CONTROL_DATABASE_URL: `sqlite:${join(runDir, 'control.db')}`,
      DMR_CONTROL_CA_DIR: pki.caDir,
      DMR_TLS_CERT_FILE: join(pki.dir, 'certs/control.cert.pem'),
      DMR_TLS_KEY_FILE: join(pki.dir, 'certs/control.key.pem'),
      RABBITMQ_DEFAULT_HOST: '127.0.0.1',
      RABBITMQ_DEFAULT_PORT: String(node.amqpPort),
      RABBITMQ_DEFAULT_VHOST: vhost,
      RABBITMQ_DEFAULT_USER: node.user,
      RABBITMQ_DEFAULT_PASS: node.password,
    },
    logDir,
  );
  await waitHttpOk(proc, `http://127.0.0.1:${opsPort}/v1/ready`, 60_000);
  return { ...proc, port };
}

/** The `dmr_config_version` a server reports on /metrics (null when absent). */
async function serverConfigVersion(url) {
  const text = await fetch(`${url}/metrics`).then((response) => response.text());
  const match = /^dmr_config_version(?:\{[^}]*\})? (\d+)/m.exec(text);
  return match ? Number(match[1]) : null;
}

/** Polls every server tightly until each runs `version` or later. */
async function waitAllAt(servers, version) {
  const deadline = performance.now() + PUSH_TIMEOUT_MS;
  const pending = new Set(servers.map((server) => server.url));
  while (pending.size > 0) {
    if (performance.now() > deadline)
      throw new Error(`push: ${pending.size} server(s) not at configVersion ${version} after ${PUSH_TIMEOUT_MS} ms`);
    await Promise.all([...pending].map(async (url) => ((await serverConfigVersion(url)) >= version ? pending.delete(url) : undefined)));
  }
}

/**
 * Runs the control phase. `counts`: `{importAgents, pushWrites, reads, writes}`. Returns the `control` report member:
 * `import_1000_s` (scaled to 1000 when `importAgents` differs), `push_p99_ms`, `api_read_p99_ms`, `api_write_p99_ms`,
 * `api_baseline_p99_ms` and the ratios to it, and the full summaries.
 */
export async function measureControl({ node, runDir, logDir, counts, log }) {
  const vhost = `control-${randomBytes(3).toString('hex')}`;
  await createBenchVhost(node, vhost);
  const pki = await makePki(runDir);
  const control = await startControl({ node, vhost, runDir, logDir, pki });
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: readFileSync(pki.caFile), cert: pki.cert, key: pki.key });
  const api = (method, path, body, headers) => call(agent, control.port, method, path, body, headers);
  try {
    const publicPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const agents = Array.from({ length: counts.importAgents }, (_, i) => ({
      id: `bench-${i}`,
      name: `Bench agent ${i}`,
      institution: 'Bench',
      labels: { bench: 'control' },
      authenticationCertificate: publicPem,
    }));
    const t0 = performance.now();
    await expectStatus(api('POST', '/v1/import', { format: 'dmr-control/registry-v1', agents }), 200, 'POST /v1/import');
    const importS = (performance.now() - t0) / 1000;
    log(`  → import of ${counts.importAgents} agents: ${importS.toFixed(2)} s`);

    const servers = [];
    for (let i = 0; i < SERVERS; i += 1) {
      servers.push(
        await startServer({
          name: `control-server-${i + 1}`,
          node,
          vhost,
          registryUrl: `https://127.0.0.1:${control.port}/centops/configuration`,
          logDir,
          env: { CENTOPS_CONFIGURATION_CA_FILE: pki.caFile, DMR_INSTANCE_ID: `bench-control-${i + 1}` },
        }),
      );
    }
    let version = (await expectStatus(api('GET', '/v1/config-version'), 200, 'config-version')).json.configVersion;
    await waitAllAt(servers, version);

    let etag = (await expectStatus(api('GET', '/v1/agents/bench-0'), 200, 'GET agent')).headers.etag;
    const patch = async (name) => {
      const answer = await expectStatus(api('PATCH', '/v1/agents/bench-0', { name }, { 'if-match': etag }), 200, 'PATCH agent');
      etag = answer.headers.etag;
      version += 1;
    };
    // push: a write, then every server at the new version; 300 ms apart, past a server's 200 ms between two fetches
    const push = [];
    for (let i = 0; i < counts.pushWrites; i += 1) {
      await patch(`push ${i}`);
      const t = performance.now();
      await waitAllAt(servers, version);
      push.push(performance.now() - t);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const pushMs = summarise(push);
    log(`  → push to ${SERVERS} servers: p50 ${pushMs.p50} ms, p99 ${pushMs.p99} ms`);
    for (const server of servers) await server.stop();

    const baseline = await timed(counts.reads, () => expectStatus(api('GET', '/v1/health'), 200, 'health'));
    const reads = await timed(counts.reads, () => expectStatus(api('GET', '/v1/agents?limit=100'), 200, 'GET agents'));
    const writes = await timed(counts.writes, (i) => patch(`write ${i}`));
    log(`  → API p99: read ${reads.p99} ms, write ${writes.p99} ms, baseline GET /v1/health ${baseline.p99} ms`);
    const ratio = (value) => Math.round((value / Math.max(0.001, baseline.p99)) * 100) / 100;
    return {
      import_1000_s: Math.round(importS * (1000 / counts.importAgents) * 100) / 100,
      import_agents: counts.importAgents,
      import_s: Math.round(importS * 100) / 100,
      push_p99_ms: pushMs.p99,
      servers: SERVERS,
      api_read_p99_ms: reads.p99,
      api_write_p99_ms: writes.p99,
      api_baseline_p99_ms: baseline.p99,
      api_read_ratio: ratio(reads.p99),
      api_write_ratio: ratio(writes.p99),
      baseline: 'GET /v1/health on the same mTLS listener over the same kept-alive connection (the HTTPS + fastify floor)',
      push: pushMs,
      api_read: reads,
      api_write: writes,
      api_baseline: baseline,
      counts,
    };
  } finally {
    agent.destroy();
    await control.stop();
  }
}
