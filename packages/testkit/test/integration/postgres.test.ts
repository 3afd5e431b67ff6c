import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresCluster, startPostgres } from '../../src/index.js';

async function query<T extends Record<string, unknown>>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

// A stopped postmaster is reparented to PID 1, which on some machines (firecracker init) does not reap it at once:
// a zombie (state Z in /proc/<pid>/stat) has exited.
function readIsRunning(pid: number): boolean {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

function isProcessRunning(pid: number): boolean {
  try {
    return readIsRunning(pid);
  } catch {
    return false;
  }
}

describe('private PostgreSQL cluster', () => {
  let cluster: PostgresCluster;

  beforeAll(async () => {
    cluster = await startPostgres();
  });

  afterAll(async () => {
    await cluster.stop();
  });

  it('serves password logins on its own port of 127.0.0.1 only, UTF-8, with its socket in its own directory', async () => {
    expect(cluster.port).not.toBe(5432);
    const [row] = await query<{ addr: string; port: number; listen: string; encoding: string; sockets: string }>(
      cluster.url,
      "select host(inet_server_addr()) as addr, inet_server_port() as port, current_setting('listen_addresses') as listen, current_setting('server_encoding') as encoding, current_setting('unix_socket_directories') as sockets",
    );
    expect(row).toEqual({ addr: '127.0.0.1', port: cluster.port, listen: '127.0.0.1', encoding: 'UTF8', sockets: cluster.baseDir });
    expect(existsSync(join(cluster.baseDir, `.s.PGSQL.${cluster.port}`))).toBe(true);
    const wrong = new URL(cluster.url);
    wrong.password = 'wrong';
    await expect(query(wrong.toString(), 'select 1')).rejects.toThrow(/password authentication failed/);
  });

  it('runs the server as the postgres OS user when the test runs as root', () => {
    const owner = statSync(join(cluster.baseDir, 'data')).uid;
    if (process.getuid?.() === 0) expect(owner).not.toBe(0);
    else expect(owner).toBe(process.getuid?.());
  });

  it('creates separate databases by name, and refuses bad or repeated names', async () => {
    const first = await cluster.createDatabase('kit_first');
    const second = await cluster.createDatabase('kit_second');
    await query(first, 'create table only_here (x int)');
    expect(await query(first, "select count(*)::int as n from pg_tables where tablename = 'only_here'")).toEqual([{ n: 1 }]);
    expect(await query(second, "select count(*)::int as n from pg_tables where tablename = 'only_here'")).toEqual([{ n: 0 }]);
    await expect(cluster.createDatabase('kit_first')).rejects.toThrow(/already exists/);
    await expect(cluster.createDatabase('Bad-Name"; drop')).rejects.toThrow(/Invalid test database name/);
  });
});

describe('stopping a private PostgreSQL cluster', () => {
  it('stops the postmaster, removes its directory, and returns the same promise when called again', async () => {
    const cluster = await startPostgres();
    expect(isProcessRunning(cluster.pid)).toBe(true);
    const stopping = cluster.stop();
    expect(cluster.stop()).toBe(stopping);
    await stopping;
    expect(isProcessRunning(cluster.pid)).toBe(false);
    expect(existsSync(cluster.baseDir)).toBe(false);
  });
});
