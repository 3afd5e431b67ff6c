// Issue #18, acceptance "HA": two dmr-control processes on one private PostgreSQL cluster, a dmr-server process
// reading the registry from instance 1. Instance 1 is killed (kill -9 by PID) while a bulk import of N agents is
// inside its transaction: instance 2 serves on (reads and a write), the agent count is the old one or old + N and
// never in between, the config version matches the outcome, and the dmr-server keeps its last good registry (ready,
// and a message between two agents it had before still relays).
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findFreePorts, type PostgresCluster, startPostgres } from '@dmr/testkit';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { initCa, issueAdminCertificate, issueServerCertificate } from '../../packages/control/src/ca/index.js';
import { postMessage, v1Body, waitUntil } from '../support/dmr-system.js';
import { type RabbitVhostHandle, useRabbitVhost } from '../support/rabbit.js';
import { httpStatus, type Proc, waitReady } from './support/fleet.js';
import { cleanUp, FaultWorld } from './support/world.js';

const CONTROL_BIN = resolve(import.meta.dirname, '../../packages/control/dist/service/main.js');
const IMPORT_SIZE = 2000;

interface Pki {
  readonly dir: string;
  readonly caDir: string;
  readonly caPem: string;
  readonly admin: { cert: string; key: string };
}

interface ControlInstance {
  readonly proc: Proc;
  readonly port: number;
  readonly opsPort: number;
}

interface Answer {
  readonly status: number;
  readonly json: Record<string, unknown>;
}

async function makePki(): Promise<Pki> {
  const dir = await mkdtemp(join(tmpdir(), 'dmr-control-ha-'));
  const caDir = join(dir, 'ca');
  await initCa({ dir: caDir, commonName: 'Control HA Test CA' });
  await issueServerCertificate(
    caDir,
    { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] },
    { outDir: join(dir, 'certs'), name: 'control' },
  );
  const admin = await issueAdminCertificate(caDir, 'admin', 'ha.admin', { outDir: join(dir, 'certs') });
  return {
    dir,
    caDir,
    caPem: await readFile(join(caDir, 'ca.cert.pem'), 'utf8'),
    admin: { cert: await readFile(admin.certificatePath, 'utf8'), key: await readFile(admin.keyPath as string, 'utf8') },
  };
}

/** One admin API call over mutual TLS with the admin certificate. */
function call(pki: Pki, port: number, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((done, fail) => {
    const request = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        ca: pki.caPem,
        servername: 'localhost',
        cert: pki.admin.cert,
        key: pki.admin.key,
        agent: false,
        headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          done({ status: response.statusCode ?? 0, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
        });
      },
    );
    request.on('error', fail);
    request.end(payload);
  });
}

/** Counts the agents through the admin API (pages of 1000). */
async function countAgents(pki: Pki, port: number): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await call(pki, port, 'GET', `/v1/agents?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(page.status).toBe(200);
    count += (page.json.items as unknown[]).length;
    cursor = (page.json.nextCursor as string | null | undefined) ?? undefined;
  } while (cursor);
  return count;
}

async function configVersion(pki: Pki, port: number): Promise<number> {
  const answer = await call(pki, port, 'GET', '/v1/config-version');
  expect(answer.status).toBe(200);
  return answer.json.configVersion as number;
}

describe('two dmr-control instances on one PostgreSQL', () => {
  let rabbit: RabbitVhostHandle | undefined;
  let world: FaultWorld | undefined;
  let postgres: PostgresCluster | undefined;
  let pki: Pki | undefined;

  afterEach(async () => {
    const steps = [world?.close.bind(world), rabbit?.cleanup.bind(rabbit), postgres?.stop.bind(postgres)];
    const dir = pki?.dir;
    world = undefined;
    rabbit = undefined;
    postgres = undefined;
    pki = undefined;
    await cleanUp(...steps, dir ? () => rm(dir, { recursive: true, force: true }) : undefined);
  });

  it('kill -9 of instance 1 mid-import: no partial import, instance 2 serves on, the server keeps its registry', {
    timeout: 240_000,
  }, async () => {
    postgres = await startPostgres();
    const databaseUrl = await postgres.createDatabase('control_ha');
    pki = await makePki();
    rabbit = await useRabbitVhost();
    world = await new FaultWorld({ ...rabbit, hosts: '127.0.0.1', managementUris: rabbit.managementBase }).open();
    const w = world;
    const p = pki;

    const startControl = async (name: string): Promise<ControlInstance> => {
      const [port = 0, opsPort = 0] = await findFreePorts(2);
      const proc = w.fleet.launch(name, CONTROL_BIN, {
        DMR_CONTROL_HOST: '127.0.0.1',
        DMR_CONTROL_PORT: String(port),
        DMR_OPS_PORT: String(opsPort),
        DMR_CONTROL_DATABASE_URL: `${databaseUrl}?application_name=${name}`,
        DMR_CONTROL_CA_DIR: p.caDir,
        DMR_TLS_CERT_FILE: join(p.dir, 'certs/control.cert.pem'),
        DMR_TLS_KEY_FILE: join(p.dir, 'certs/control.key.pem'),
        LOGGER_LOG_LEVELS: 'error,warn,log',
      });
      await waitReady(proc, `http://127.0.0.1:${opsPort}`);
      return { proc, port, opsPort };
    };
    // one after the other: the first runs the migrations
    const control1 = await startControl('control-1');
    const control2 = await startControl('control-2');

    for (const identity of [w.a, w.b]) {
      const created = await call(p, control2.port, 'POST', '/v1/agents', {
        id: identity.id,
        name: `agent ${identity.id.slice(0, 8)}`,
        authenticationCertificate: identity.certificatePem,
      });
      expect(created.status).toBe(201);
    }
    const server = await w.startServer('server-1', {
      CENTOPS_CONFIGURATION_URL: `https://127.0.0.1:${control1.port}/centops/configuration`,
      CENTOPS_CONFIGURATION_CA_FILE: join(p.caDir, 'ca.cert.pem'),
    });
    const agentA = await w.startAgent('agent-a', w.a, [server.url]);
    await w.startAgent('agent-b', w.b, [server.url]);
    const first = v1Body(w.b.id);
    expect((await postMessage(agentA.url, first)).status).toBe(202);
    await waitUntil(() => w.endpoint.deliveredIds().has(first.id), 30_000, 'the first message relayed');

    const countBefore = await countAgents(p, control2.port);
    const versionBefore = await configVersion(p, control2.port);
    expect(countBefore).toBe(2);

    // N agents with a key each (one shared P-256 key: the import validates and canonicalises every one)
    const publicPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const batch = randomUUID().slice(0, 8);
    const agents = Array.from({ length: IMPORT_SIZE }, (_, i) => ({
      id: `bulk-${batch}-${i}`,
      name: `Bulk agent ${i}`,
      institution: 'HA test',
      labels: { batch },
      authenticationCertificate: publicPem,
    }));
    const importing = call(p, control1.port, 'POST', '/v1/import', { format: 'dmr-control/registry-v1', agents }).catch(
      (error: Error) => error,
    );

    // wait until instance 1 holds an open transaction on the database, then kill it
    const watcher = new pg.Client({ connectionString: databaseUrl });
    await watcher.connect();
    let sawTransaction = false;
    try {
      await waitUntil(
        async () => {
          const { rows } = await watcher.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'control-1' AND xact_start IS NOT NULL AND state <> 'idle'",
          );
          sawTransaction = (rows[0] as { n: number }).n > 0;
          return sawTransaction;
        },
        60_000,
        'instance 1 inside the import transaction',
      );
      await control1.proc.kill9();
    } finally {
      await watcher.end();
    }
    const importAnswer = await importing;
    // the connection died with the process: no answer reached the client
    expect(importAnswer).toBeInstanceOf(Error);

    // instance 2 serves on: the count is the old one or old + N, never in between, and stays so
    const samples: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      samples.push(await countAgents(p, control2.port));
      await new Promise((done) => setTimeout(done, 200));
    }
    const committed = samples.at(-1) === countBefore + IMPORT_SIZE;
    for (const sample of samples) expect([countBefore, countBefore + IMPORT_SIZE]).toContain(sample);
    expect(new Set(samples).size).toBe(1);
    const versionAfterKill = await configVersion(p, control2.port);
    // one import = one configVersion bump (or none when it rolled back)
    expect(versionAfterKill).toBe(committed ? versionBefore + 1 : versionBefore);
    process.stdout.write(`  import of ${IMPORT_SIZE} at the kill: ${committed ? 'committed (old + N)' : 'rolled back (old count)'}\n`);

    // a write through instance 2 succeeds and bumps the version by one
    const third = await call(p, control2.port, 'POST', '/v1/agents', { id: `after-kill-${batch}`, name: 'After the kill' });
    expect(third.status).toBe(201);
    expect(await configVersion(p, control2.port)).toBe(versionAfterKill + 1);
    expect(await countAgents(p, control2.port)).toBe((samples[0] ?? -1) + 1);

    // the server keeps its last good registry while its CentOps URL (instance 1) is gone: still ready, still relays
    expect(await httpStatus(`http://127.0.0.1:${control1.opsPort}/v1/health`)).toBe(0);
    await new Promise((done) => setTimeout(done, 2500)); // at least two failed polls (cron every second)
    expect(await httpStatus(`${server.url}/v1/ready`)).toBe(200);
    const second = v1Body(w.b.id);
    expect((await postMessage(agentA.url, second)).status).toBe(202);
    await waitUntil(() => w.endpoint.deliveredIds().has(second.id), 30_000, 'a message relayed after the kill');
    expect(server.proc.isRunning).toBe(true);
  });
});
