// What `dmrctl servers token` and `dmrctl servers relay-token` do (loaded when one runs): one-time enrollment tokens
// for a DMR server instance (its DNS names and IPs fixed now, by the admin) and for the relay's RabbitMQ user,
// through `POST /v1/servers/{name}/enrollment-tokens` (admin certificate).
import type { ApiFlags } from './api-options.js';
import { emit, withControlClient } from './api-session.js';
import type { CliContext, CliIo } from './output.js';
import { UsageError } from './output.js';

/** The relay user dmr-control names when none is given (`DEFAULT_RELAY_USER`). */
const DEFAULT_RELAY_USER = 'dmr-relay';

type ServerTokenFlags = ApiFlags & { readonly dnsName?: string[]; readonly ip?: string[] };

/** `servers token <name>`: a server instance's token; its certificate will carry exactly these names. */
export async function makeServerToken(io: CliIo, context: CliContext, name: string, flags: ServerTokenFlags): Promise<void> {
  const dnsNames = flags.dnsName ?? [];
  const ipAddresses = flags.ip ?? [];
  if (dnsNames.length + ipAddresses.length === 0) {
    throw new UsageError('a server certificate needs at least one --dns-name or --ip (the names clients reach it by)');
  }
  const body = { kind: 'server', ...(dnsNames.length > 0 ? { dnsNames } : {}), ...(ipAddresses.length > 0 ? { ipAddresses } : {}) };
  await issueToken(io, context, flags, name, body, `server ${name}`, { kind: 'server', subjectId: name, dnsNames, ipAddresses });
}

/** `servers relay-token`: the token of the relay's RabbitMQ user (broker CA; CN = the user). */
export async function makeRelayToken(io: CliIo, context: CliContext, flags: ApiFlags & { readonly user?: string }): Promise<void> {
  const user = flags.user ?? DEFAULT_RELAY_USER;
  const body = { kind: 'relay-user', ...(flags.user === undefined ? {} : { user }) };
  // the route's {name} is not used for the relay user; the user's name fills it so the change log reads well
  await issueToken(io, context, flags, user, body, `the relay user ${user}`, { kind: 'relay-user', subjectId: user });
}

/** Posts for a token; the token alone on stdout (once), the warning on stderr, like `agents token`. */
async function issueToken(
  io: CliIo,
  context: CliContext,
  flags: ApiFlags,
  pathName: string,
  body: Record<string, unknown>,
  whom: string,
  shown: Record<string, unknown>,
): Promise<void> {
  const issued = await withControlClient(context, flags, (client) =>
    client.post(`v1/servers/${encodeURIComponent(pathName)}/enrollment-tokens`, body),
  );
  const expiresAt = String(issued.expiresAt);
  io.err(
    `dmrctl: this enrollment token is a SECRET: whoever holds it can enroll as ${whom} once, until ${expiresAt}.\n` +
      'dmrctl: it is shown only now (dmr-control keeps only its hash); hand it over on a safe channel, keep it out of logs and history.\n',
  );
  emit(io, flags.output, { ...shown, token: issued.token, expiresAt }, () => `${String(issued.token)}\n`);
}
