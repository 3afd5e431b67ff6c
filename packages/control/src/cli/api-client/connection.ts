// Where dmrctl finds dmr-control and which admin certificate it shows (pure: flags and environment in, settings out).
import type { Env } from '@dmr/shared';
import { DmrError } from '@dmr/shared/base';

/** The environment variables of the connection; each has a flag that wins over it. */
export const CONNECTION_VARIABLES = {
  url: 'DMR_CONTROL_URL',
  cert: 'DMR_CONTROL_CERT_FILE',
  key: 'DMR_CONTROL_KEY_FILE',
  ca: 'DMR_CONTROL_CA_FILE',
} as const;

/** Default time one API request may take, in milliseconds (`--timeout-ms`). */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** The connection flags as commander parsed them (all optional: the environment fills the gaps). */
export interface ConnectionFlags {
  readonly url?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly ca?: string;
  readonly timeoutMs?: number;
}

/** A checked connection: an https base URL and the files of the admin certificate, its key and the trusted CA. */
export interface ConnectionSettings {
  /** Base URL ending in `/`, so `new URL('v1/agents', base)` keeps any path prefix of a reverse proxy. */
  readonly baseUrl: URL;
  readonly certFile: string;
  readonly keyFile: string;
  /** The CA bundle that signed dmr-control's certificate; Node's public roots when absent. */
  readonly caFile?: string;
  readonly timeoutMs: number;
}

/**
 * Resolves the connection from flags, then the environment. Throws `DMR_CONFIG_INVALID` naming the flag and its
 * variable when the URL is missing or not `https://`, or when the certificate or key is missing: the admin API is mTLS
 * only, and no flag turns verification off.
 */
export function resolveConnection(flags: ConnectionFlags, env: Env): ConnectionSettings {
  const url = pick(flags.url, env, 'url');
  const certFile = pick(flags.cert, env, 'cert');
  const keyFile = pick(flags.key, env, 'key');
  const caFile = flags.ca ?? nonEmpty(env[CONNECTION_VARIABLES.ca]);
  if (url === undefined) throw missing('url', "dmr-control's admin API, e.g. https://control.dmr.internal:8094");
  if (certFile === undefined) throw missing('cert', 'an admin certificate (PEM), from "dmrctl cert admin"');
  if (keyFile === undefined) throw missing('key', "the admin certificate's private key (PEM)");
  return {
    baseUrl: parseBaseUrl(url),
    certFile,
    keyFile,
    ...(caFile === undefined ? {} : { caFile }),
    timeoutMs: flags.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
}

/** Parses the API's base URL: `https://` only, no credentials, query or fragment; a trailing `/` is added. */
export function parseBaseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(`is not a URL: ${text}`);
  }
  if (url.protocol !== 'https:') throw invalid(`must be https:// (the admin API is mTLS only), got ${url.protocol}//`);
  if (url.username !== '' || url.password !== '')
    throw invalid('must not carry a user name or password: dmrctl logs in with its certificate');
  if (url.search !== '' || url.hash !== '') throw invalid('must not carry a query or fragment');
  if (!url.pathname.endsWith('/')) url.pathname = `${url.pathname}/`;
  return url;
}

function pick(flag: string | undefined, env: Env, name: keyof typeof CONNECTION_VARIABLES): string | undefined {
  return nonEmpty(flag) ?? nonEmpty(env[CONNECTION_VARIABLES[name]]);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function missing(name: keyof typeof CONNECTION_VARIABLES, what: string): DmrError {
  return new DmrError('DMR_CONFIG_INVALID', `--${name} or ${CONNECTION_VARIABLES[name]} is required: ${what}`);
}

function invalid(problem: string): DmrError {
  return new DmrError('DMR_CONFIG_INVALID', `--url / ${CONNECTION_VARIABLES.url} ${problem}`);
}
