import { hostname } from 'node:os';
import { type EnvReader, INSTANCE_ID_PATTERN } from '@dmr/shared';

/**
 * How this server follows the control plane (issue 18, docs/control-plane.md): push announcements on `dmr.control`,
 * the report of what it runs, and the trust for the control plane's HTTPS endpoints.
 */
export interface ControlConfig {
  /** `DMR_CONTROL_PUSH` (default true: every server has RabbitMQ): bind a queue to `dmr.control` and re-sync on announcements. */
  readonly isPushEnabled: boolean;
  /** `DMR_INSTANCE_ID` (default `<hostname>-<pid>`, reduced to the allowed alphabet): names this server in reports and its queue. */
  readonly instanceId: string;
  /** `DMR_CONTROL_URL`: base URL of dmr-control's admin API (https); unset: no report. */
  readonly url: string | undefined;
  /**
   * `DMR_CONTROL_CA_FILE`: PEM CA(s) trusted for `DMR_CONTROL_URL` and an https `DMR_TLS_CRL_URL` instead of Node's
   * root store. Default: `CENTOPS_CONFIGURATION_CA_FILE` (dmr-control usually serves the registry too).
   */
  readonly caFile: string | undefined;
  /** `DMR_CONTROL_CLIENT_CERT_FILE` (default `DMR_TLS_CERT_FILE`): client certificate of the report (clientAuth, role `server`). */
  readonly clientCertFile: string | undefined;
  /** `DMR_CONTROL_CLIENT_KEY_FILE` (default `DMR_TLS_KEY_FILE`). */
  readonly clientKeyFile: string | undefined;
  /** `DMR_CONTROL_TIMEOUT_MS` (default 10000): timeout of one report and of one CRL fetch. */
  readonly timeoutMs: number;
}

/** Where the default instance id comes from (injectable so config parsing stays testable). */
export interface HostFacts {
  readonly hostname: string;
  readonly pid: number;
}

/** This process's host name and pid. */
export const LOCAL_HOST_FACTS: HostFacts = { hostname: hostname(), pid: process.pid };

/** The agent-facing TLS files the control client falls back to. */
export interface ServerTlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * Reads {@link ControlConfig}. Problems (recorded on `read`, naming the variable): a bad `DMR_INSTANCE_ID`, a
 * `DMR_CONTROL_URL` that is not https, only one of the client certificate pair, and a `DMR_CONTROL_URL` without any
 * client certificate (the report needs mutual TLS).
 */
export function readControl(read: EnvReader, tls: ServerTlsFiles | undefined, host: HostFacts = LOCAL_HOST_FACTS): ControlConfig {
  const instanceId = read.string('DMR_INSTANCE_ID', defaultInstanceId(host));
  if (!INSTANCE_ID_PATTERN.test(instanceId)) {
    read.problem(
      `DMR_INSTANCE_ID must be 1-128 letters, digits, ".", "_" or "-" starting with a letter or digit, got "${instanceId.slice(0, 140)}"`,
    );
  }
  const url = read.optionalString('DMR_CONTROL_URL') === undefined ? undefined : read.url('DMR_CONTROL_URL', ['https:']);
  const certFile = read.optionalString('DMR_CONTROL_CLIENT_CERT_FILE');
  const keyFile = read.optionalString('DMR_CONTROL_CLIENT_KEY_FILE');
  if ((certFile === undefined) !== (keyFile === undefined)) {
    read.problem('DMR_CONTROL_CLIENT_CERT_FILE and DMR_CONTROL_CLIENT_KEY_FILE must be set together');
  }
  const clientCertFile = certFile ?? tls?.certFile;
  const clientKeyFile = keyFile ?? tls?.keyFile;
  if (url !== undefined && (clientCertFile === undefined || clientKeyFile === undefined)) {
    read.problem(
      'DMR_CONTROL_URL needs a client certificate for the report: set DMR_CONTROL_CLIENT_CERT_FILE and DMR_CONTROL_CLIENT_KEY_FILE, or DMR_TLS_CERT_FILE and DMR_TLS_KEY_FILE',
    );
  }
  return {
    isPushEnabled: read.bool('DMR_CONTROL_PUSH', true),
    instanceId,
    url: url?.replace(/\/+$/, ''),
    caFile: read.optionalString('DMR_CONTROL_CA_FILE') ?? read.optionalString('CENTOPS_CONFIGURATION_CA_FILE'),
    clientCertFile,
    clientKeyFile,
    timeoutMs: read.int('DMR_CONTROL_TIMEOUT_MS', { default: 10_000, min: 100 }),
  };
}

/** `<hostname>-<pid>` in the instance-id alphabet (a pod name in Kubernetes, where the pid is usually 1). */
export function defaultInstanceId(host: HostFacts): string {
  const name = host.hostname.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return `${(name || 'dmr-server').slice(0, 116)}-${host.pid}`;
}
