import { isIP } from 'node:net';
import { AGENT_ID_PATTERN, AGENT_URI_PREFIX, DmrError, isAgentId } from '@dmr/shared/base';

export { AGENT_ID_PATTERN, AGENT_URI_PREFIX, isAgentId };

// RabbitMQ maps the certificate CN to a user name (ssl_cert_login_from = common_name)
const USER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** The SAN URI naming `agentId`. Throws DMR_CA_INVALID_REQUEST for an invalid id. */
export function agentUri(agentId: string): string {
  return `${AGENT_URI_PREFIX}${checkAgentId(agentId)}`;
}

/** Returns `agentId` when valid; throws DMR_CA_INVALID_REQUEST otherwise. */
export function checkAgentId(agentId: string): string {
  if (!isAgentId(agentId)) {
    throw new DmrError('DMR_CA_INVALID_REQUEST', `agent id "${agentId}" must match ${AGENT_ID_PATTERN.source}`);
  }
  return agentId;
}

/** Returns the RabbitMQ user name when valid; throws DMR_CA_INVALID_REQUEST otherwise. */
export function checkUserName(user: string): string {
  if (!USER_NAME_PATTERN.test(user)) {
    throw new DmrError('DMR_CA_INVALID_REQUEST', `user name "${user}" must match ${USER_NAME_PATTERN.source}`);
  }
  return user;
}

/**
 * Lowercased DNS names, each checked (letters, digits, hyphens; a leading `*.` wildcard label allowed).
 * Throws DMR_CA_INVALID_REQUEST naming the first bad one.
 */
export function checkDnsNames(names: readonly string[]): string[] {
  return names.map((raw) => {
    const name = raw.trim().toLowerCase().replace(/\.$/, '');
    const labels = name.startsWith('*.') ? name.slice(2).split('.') : name.split('.');
    if (name.length === 0 || name.length > 253 || !labels.every((label) => DNS_LABEL.test(label))) {
      throw new DmrError('DMR_CA_INVALID_REQUEST', `"${raw}" is not a valid DNS name`);
    }
    return name;
  });
}

/** IPv4/IPv6 addresses, each checked. Throws DMR_CA_INVALID_REQUEST naming the first bad one. */
export function checkIpAddresses(addresses: readonly string[]): string[] {
  return addresses.map((raw) => {
    const address = raw.trim();
    if (isIP(address) === 0) throw new DmrError('DMR_CA_INVALID_REQUEST', `"${raw}" is not a valid IP address`);
    return address;
  });
}

/** Checks a subject common name: 1–64 characters (X.520 ub-common-name), no control characters. */
export function checkCommonName(cn: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (cn.length === 0 || cn.length > 64 || /[\u0000-\u001f\u007f]/.test(cn)) {
    throw new DmrError('DMR_CA_INVALID_REQUEST', 'common name must be 1 to 64 printable characters');
  }
  return cn;
}
