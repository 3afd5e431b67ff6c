import { access, constants, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type HostEnv, readHostEnv } from './host-env.js';

/** Where the Debian/Ubuntu `rabbitmq-server` package puts its versioned server directories. */
export const DEFAULT_RABBITMQ_LIB_DIR = '/usr/lib/rabbitmq/lib';

const SERVER_DIR_PATTERN = /^rabbitmq_server-(\d+(?:\.\d+)*)$/;

/**
 * Picks the newest `rabbitmq_server-<version>` entry from a directory listing
 * (the equivalent of globbing `rabbitmq_server-*`, newest version first).
 * Returns `undefined` when no entry matches.
 */
export function pickNewestServerDir(entries: readonly string[]): string | undefined {
  const versioned = entries.flatMap((entry) => {
    const match = SERVER_DIR_PATTERN.exec(entry);
    return match?.[1] === undefined ? [] : [{ entry, version: match[1].split('.').map(Number) }];
  });
  versioned.sort((a, b) => compareVersions(b.version, a.version));
  return versioned[0]?.entry;
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

/**
 * Finds the RabbitMQ `sbin` directory whose scripts run a node as the calling
 * user. The `/usr/sbin/rabbitmq*` wrappers are not used: they switch to the
 * `rabbitmq` user and read `/etc/rabbitmq`.
 *
 * Order: `DMR_RABBITMQ_SBIN` when set, else the newest
 * `/usr/lib/rabbitmq/lib/rabbitmq_server-*\/sbin`.
 *
 * @throws Error naming `scripts/ensure-rabbitmq.sh` when no usable directory exists.
 */
export async function locateRabbitSbin(host: HostEnv = readHostEnv(), libDir: string = DEFAULT_RABBITMQ_LIB_DIR): Promise<string> {
  if (host.rabbitSbinOverride !== undefined) {
    await assertServerScript(host.rabbitSbinOverride, 'DMR_RABBITMQ_SBIN');
    return host.rabbitSbinOverride;
  }
  const entries = await readdir(libDir).catch(() => [] as string[]);
  const newest = pickNewestServerDir(entries);
  if (newest === undefined) {
    throw new Error(
      `No RabbitMQ server found under ${libDir}/rabbitmq_server-*/sbin. Run scripts/ensure-rabbitmq.sh or set DMR_RABBITMQ_SBIN.`,
    );
  }
  const sbin = join(libDir, newest, 'sbin');
  await assertServerScript(sbin, libDir);
  return sbin;
}

async function assertServerScript(sbin: string, source: string): Promise<void> {
  const script = join(sbin, 'rabbitmq-server');
  try {
    await access(script, constants.X_OK);
  } catch (cause) {
    throw new Error(`${script} (from ${source}) is missing or not executable. Run scripts/ensure-rabbitmq.sh.`, {
      cause,
    });
  }
}
