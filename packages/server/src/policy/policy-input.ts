import type { PolicyCertificate, PolicyInput, PolicyParty, PolicyTime } from '@dmr/shared/policy';

/** What the registry says about one agent (the server's `AgentRegistry.attributesOf` fits). */
export interface PartyAttributes {
  readonly institution: string;
  readonly groups: readonly string[];
}

/** The metadata of one validated message the decision reads: never its payload, id or timestamp. */
export interface DecidedMessage {
  readonly senderId: string;
  readonly recipientId: string;
  readonly type: string;
}

/**
 * The policy input of one message (docs/policy.md "Input"): both parties with their registry attributes, the sender's
 * certificate identity (null for a token handshake without one), the message type and the routing time. Pure: the
 * caller passes the registry lookup and the time already put into the document's zone.
 */
export function buildPolicyInput(
  message: DecidedMessage,
  attributesOf: (agentId: string) => PartyAttributes,
  certificate: PolicyCertificate | null,
  time: PolicyTime,
): PolicyInput {
  return {
    sender: { ...partyOf(message.senderId, attributesOf), certificate },
    recipient: partyOf(message.recipientId, attributesOf),
    message: { type: message.type },
    time,
  };
}

function partyOf(id: string, attributesOf: (agentId: string) => PartyAttributes): PolicyParty {
  const { institution, groups } = attributesOf(id);
  return { id, institution, groups };
}
