import { isIP } from 'node:net';
import type { EnvReader } from './env-reader.js';

/** Where the ops listener (health, readiness, metrics over plain HTTP, no client certificate) binds. */
export interface OpsListenerConfig {
  /** Bind address (`DMR_OPS_HOST`, default `127.0.0.1`). */
  readonly host: string;
  /** Port (`DMR_OPS_PORT`; `0` picks a free port, logged at start). */
  readonly port: number;
}

/** Default bind address: loopback, so nothing outside the host or pod reaches it unless the operator says so. */
export const DEFAULT_OPS_HOST = '127.0.0.1';

// RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens
const HOST_NAME = /^(?=.{1,253}$)[a-z\d](?:[a-z\d-]{0,61}[a-z\d])?(?:\.[a-z\d](?:[a-z\d-]{0,61}[a-z\d])?)*$/i;

/**
 * Reads `DMR_OPS_HOST` and `DMR_OPS_PORT`. The listener is opt-in: without `DMR_OPS_PORT` there is none (a fixed
 * default port would collide between the server and agents sharing a host). `mainPort` is the deployable's own
 * `PORT`, which the ops port must not repeat. Problems (a bad host or port, a host without a port) are recorded
 * on `read`, naming the variable.
 */
export function readOpsListener(read: EnvReader, mainPort: number): OpsListenerConfig | undefined {
  const host = read.optionalString('DMR_OPS_HOST');
  const hasPort = read.optionalString('DMR_OPS_PORT') !== undefined;
  if (host !== undefined && !isIP(host) && !HOST_NAME.test(host)) {
    read.problem(`DMR_OPS_HOST must be an IP address or a host name, got "${host.slice(0, 100)}"`);
  }
  if (!hasPort) {
    // a bind address for a listener that never opens would be configuration that does nothing
    if (host !== undefined) read.problem('DMR_OPS_HOST is set but DMR_OPS_PORT is not: set DMR_OPS_PORT to open the ops listener');
    return undefined;
  }
  const port = read.int('DMR_OPS_PORT', { min: 0, max: 65_535 });
  if (port !== 0 && port === mainPort) read.problem(`DMR_OPS_PORT (${port}) must differ from PORT: the ops listener is a port of its own`);
  return { host: host ?? DEFAULT_OPS_HOST, port };
}
