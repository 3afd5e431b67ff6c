import type { X509Certificate as NodeCertificate } from 'node:crypto';

/** The agent id pattern of the `AgentId` schema: what the relay accepts as an id. */
export const AGENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/** Prefix of the SAN URI that carries an agent's identity in its client certificate: `urn:dmr:agent:<agentId>`. */
export const AGENT_URI_PREFIX = 'urn:dmr:agent:';

/** True when `value` is a valid agent id. */
export function isAgentId(value: string): boolean {
  return AGENT_ID_PATTERN.test(value);
}

/** One entry of a certificate's subjectAltName as Node prints it: `DNS`, `IP Address`, `URI`, `email`, … */
export interface AltName {
  readonly type: string;
  readonly value: string;
}

/**
 * Parses Node's `X509Certificate.subjectAltName` text (`DNS:a, IP Address:127.0.0.1, URI:urn:…`).
 * Since the CVE-2021-44532 fix, Node prints a value holding `,`, `"`, `\` or non-printable
 * characters as a JSON string literal (`URI:"urn:x, URI:urn:y"`), so a comma inside a quoted value
 * never splits it: otherwise a crafted certificate could smuggle a second identity. Returns
 * undefined when the text is malformed (callers then trust no name in it).
 */
export function parseSubjectAltName(text: string): AltName[] | undefined {
  const names: AltName[] = [];
  let rest = text;
  while (rest.length > 0) {
    const colon = rest.indexOf(':');
    if (colon <= 0) return undefined;
    const type = rest.slice(0, colon);
    const parsed = rest[colon + 1] === '"' ? readQuoted(rest, colon + 1) : readPlain(rest, colon + 1);
    if (parsed === undefined) return undefined;
    names.push({ type, value: parsed.value });
    rest = parsed.rest;
    if (rest.length === 0) break;
    if (!rest.startsWith(', ')) return undefined;
    rest = rest.slice(2);
    if (rest.length === 0) return undefined;
  }
  return names;
}

// Node quotes every value holding any of these, so an unquoted one means the text is not Node's
const UNSAFE_PLAIN = /[",'\\]/;

function readPlain(text: string, start: number): { value: string; rest: string } | undefined {
  const end = text.indexOf(', ', start);
  const value = end === -1 ? text.slice(start) : text.slice(start, end);
  return UNSAFE_PLAIN.test(value) ? undefined : { value, rest: end === -1 ? '' : text.slice(end) };
}

function readQuoted(text: string, start: number): { value: string; rest: string } | undefined {
  // Stryker disable next-line EqualityOperator: at i = text.length, text[i] is undefined and matches neither branch
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') {
      try {
        const value: unknown = JSON.parse(text.slice(start, i + 1));
        return typeof value === 'string' ? { value, rest: text.slice(i + 1) } : undefined;
        // Stryker disable next-line BlockStatement: going on to a later quote cannot help: every longer slice holds the same bad escape or control character
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/**
 * The agent id a client certificate proves: the one SAN URI `urn:dmr:agent:<agentId>` whose id
 * matches the AgentId pattern. Undefined when there is none, when the SAN text is malformed, or
 * when the certificate names more than one agent (ambiguous identities are refused, not guessed).
 * Pure: it does not check the chain or revocation (TLS and the CRL do).
 */
export function agentIdFromCertificate(cert: NodeCertificate): string | undefined {
  const text = cert.subjectAltName;
  return text === undefined ? undefined : agentIdFromSubjectAltName(text);
}

/** {@link agentIdFromCertificate} on the SAN text itself (for tests and for TLS `getPeerCertificate().subjectaltname`). */
export function agentIdFromSubjectAltName(text: string): string | undefined {
  const names = parseSubjectAltName(text);
  if (names === undefined) return undefined;
  const ids = names
    .filter((name) => name.type === 'URI' && name.value.startsWith(AGENT_URI_PREFIX))
    .map((name) => name.value.slice(AGENT_URI_PREFIX.length));
  const [only] = ids;
  return ids.length === 1 && only !== undefined && isAgentId(only) ? only : undefined;
}
