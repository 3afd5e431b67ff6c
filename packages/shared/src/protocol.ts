/**
 * Agent ↔ server protocol constants (design.md, compatible with seed 003).
 */

/** Socket.IO namespace agents connect to. */
export const AGENT_NAMESPACE = '/v1/dmr-agent-events';

/** Socket.IO event names. */
export const EVENTS = {
  fullList: 'dmr:agents:full-list',
  partialList: 'dmr:agents:partial-list',
  messageToServer: 'dmr:agents:message-to-dmr-server',
  messageFromServer: 'dmr:agents:message-from-dmr-server',
} as const;

/** An agent as distributed to agents (camelCase, as seed 003's agents read it). */
export interface AgentInfo {
  readonly id: string;
  readonly name: string;
  readonly authenticationCertificate: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly deleted?: boolean;
  /**
   * With `deleted: true` in a `partial-list`: the agent left the list because the control plane disabled it
   * (`dmr.disabled`), so an agent that sees it answers DMR_ROUTE_RECIPIENT_DISABLED for it instead of
   * DMR_VALIDATION_UNKNOWN_RECIPIENT. Seed 003's agents ignore the member (they only read `deleted`).
   */
  readonly disabled?: boolean;
  /**
   * What the agent announced it supports beyond the seed-003 profile (registry entry `capabilities`, passed through
   * unchanged; absent when the registry lists none). See {@link AGENT_CAPABILITIES}.
   */
  readonly capabilities?: readonly string[];
}

/**
 * Agent capabilities a registry entry may list (contract addition, issue 16). Unknown ones are kept and ignored, so
 * newer agents can announce more without older ones refusing the list.
 * - `jwe:RSA-OAEP-256`: the agent decrypts JWEs whose key is wrapped with RSA-OAEP-256 (SHA-256 OAEP). RSA
 *   recipients without it get RSA-OAEP (SHA-1 OAEP), the only RSA key wrapping seed 003's agents open.
 */
export const AGENT_CAPABILITIES = { rsaOaep256: 'jwe:RSA-OAEP-256' } as const;

/** The message as it travels between agent, server and RabbitMQ. `payload` is a compact JWE. */
export interface WireMessage {
  readonly id: string;
  readonly timestamp: string;
  readonly senderId: string;
  readonly recipientId: string;
  readonly type: string;
  readonly payload: string;
}

/** Server's answer to `message-to-dmr-server`. `error` is a DMR error code. */
export interface SendAck {
  readonly status: 'ok' | 'error';
  readonly error?: string;
  readonly reason?: string;
}

/**
 * One error of a delivery ack. `type` is in seed 003's vocabulary (`DECRYPTION_FAILED` for a permanent failure,
 * `DELIVERY_FAILED` for a transient one; see `deliveryErrorOf`), so a seed-003 server dead-letters or retries it;
 * `code` is the DMR error code, which a DMR server reads first. Older DMR agents put the DMR code in `type`.
 */
export interface DeliveryAckError {
  readonly type: string;
  readonly message: string;
  readonly code?: string;
}

/** Agent's answer to `message-from-dmr-server`. */
export interface DeliveryAck {
  readonly status: 'ok' | 'error';
  readonly errors?: readonly DeliveryAckError[];
}

/**
 * Second element of a list event's argument, sent only to agents that announced {@link AGENT_LIST_DELTA_FEATURE}:
 * `version` is the list the agent holds once it applied the event (see `agentListVersion`); a `partial-list` also
 * names the `baseVersion` it applies to, and an agent holding another version must not apply it. A `full-list` names
 * in `disabled` the agents the control plane disabled (never in the list; absent when none), so that a sender that
 * (re)connects can answer DMR_ROUTE_RECIPIENT_DISABLED for them, as a live delta's `disabled: true` entries tell it.
 * The version covers the agents only: `disabled` is not part of it.
 */
export interface AgentListMeta {
  readonly version: string;
  readonly baseVersion?: string;
  readonly disabled?: readonly string[];
}

/**
 * The single argument of a list event: `[agents]` (seed 003 reads `data[0]`), or `[agents, meta]` for an agent that
 * announced {@link AGENT_LIST_DELTA_FEATURE}.
 */
export type AgentListArgument = [readonly AgentInfo[]] | [readonly AgentInfo[], AgentListMeta];

/** Events the server emits to agents. The list events carry {@link AgentListArgument} as their single argument. */
export interface ServerToClientEvents {
  'dmr:agents:full-list': (data: AgentListArgument) => void;
  'dmr:agents:partial-list': (data: AgentListArgument) => void;
  'dmr:agents:message-from-dmr-server': (message: WireMessage, ack: (reply: DeliveryAck) => void) => void;
}

/** Events agents emit to the server. */
export interface ClientToServerEvents {
  'dmr:agents:message-to-dmr-server': (message: WireMessage, ack: (reply: SendAck) => void) => void;
}

/** The only message type v1 carries. */
export const CHAT_MESSAGE_TYPE = 'ChatMessage';

/** Longest lifetime accepted for a handshake token, in seconds. */
export const MAX_TOKEN_LIFETIME_S = 60;

/** Clock skew tolerated between agent and server for a handshake token's `iat` and `exp` bounds, in seconds. */
export const TOKEN_CLOCK_SKEW_S = 30;

/** Seconds an expired handshake token is still accepted (small: a longer one widens the replay window). */
export const TOKEN_EXPIRY_TOLERANCE_S = 5;

/** Audience (`aud`) of handshake tokens when no cluster id is configured (`DMR_CLUSTER_ID` on server and agent). */
export const DEFAULT_CLUSTER_ID = 'dmr';

/** What a cluster id (`DMR_CLUSTER_ID`) may look like: 1-128 letters, digits, `.`, `_`, `:` or `-`. */
export const CLUSTER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * Handshake `auth.features` entry by which an agent announces that it enforces delivery deadlines itself (issue 15,
 * finding 17). To such an agent the server adds {@link DELIVERY_EXPIRES_IN_FIELD} to every delivery; seed 003's agents
 * announce nothing and get the wire message unchanged.
 */
export const DELIVERY_DEADLINE_FEATURE = 'delivery-deadline';

/**
 * Field the server adds to a delivery for an agent that announced {@link DELIVERY_DEADLINE_FEATURE}: the message's
 * remaining TTL in ms when it was emitted. The agent never starts posting it later than that after it arrived and
 * answers DMR_DELIVERY_EXPIRED instead.
 */
export const DELIVERY_EXPIRES_IN_FIELD = 'expiresInMs';

/**
 * Handshake `auth.features` entry by which an agent announces versioned agent lists: with it, the handshake may carry
 * {@link AGENT_LIST_VERSION_FIELD}, and the server answers the connect with nothing (the agent holds the current
 * list), a `dmr:agents:partial-list` delta from that version, or a `dmr:agents:full-list`; every list event it gets
 * carries an {@link AgentListMeta} as the argument's second element. Seed 003's agents announce nothing and get
 * `[agents]` on every connect, as before.
 */
export const AGENT_LIST_DELTA_FEATURE = 'agent-list-delta';

/** Handshake `auth` field with the version (`agentListVersion`) of the list the agent holds; absent when it holds none. */
export const AGENT_LIST_VERSION_FIELD = 'agentListVersion';
