// SEED-003 STAND-IN (issue 16): the exact shapes seed 003's system puts on the wire, generated at run time with the
// same library calls its code makes (seed003-crypto.ts). No key is committed: every call makes fresh RSA keys.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { type Seed003Wire, seed003Seal, seed003Token } from './seed003-crypto.js';

/** The only two error types seed 003's server knows in an agent's delivery ack. */
export const SEED003_ACK_TYPES = ['DECRYPTION_FAILED', 'DELIVERY_FAILED'] as const;

/** A seed-003 agent's delivery ack. */
export interface Seed003Ack {
  readonly status: 'ok' | 'error';
  readonly errors?: ReadonlyArray<{ readonly type: string; readonly message: string }>;
}

/** A seed-003 agent's key pair: RSA-2048, PKCS#8 private and SPKI public PEM (what its registry entry lists). */
export interface Seed003Keys {
  readonly privatePem: string;
  readonly publicPem: string;
}

/** Fresh RSA keys for a seed-003 agent. */
export function seed003Keys(): Seed003Keys {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** One set of fixtures: what a seed-003 agent sends, what a seed-003 server delivers, and the acks it answers. */
export interface Seed003Fixtures {
  readonly sender: Seed003Keys;
  readonly recipient: Seed003Keys;
  readonly token: string;
  /** `dmr:agents:message-to-dmr-server` from the sender. */
  readonly sent: Seed003Wire;
  /** `dmr:agents:message-from-dmr-server` as seed 003's server emits it: the same plus `receivedAt`. */
  readonly delivered: Seed003Wire;
  readonly acks: { readonly ok: Seed003Ack; readonly decryptionFailed: Seed003Ack; readonly deliveryFailed: Seed003Ack };
}

/** Generates the fixtures for `senderId` → `recipientId` carrying v1 `data` (keys fresh unless given). */
export async function makeSeed003Fixtures(
  senderId: string,
  recipientId: string,
  data: unknown,
  keys: { sender?: Seed003Keys; recipient?: Seed003Keys } = {},
): Promise<Seed003Fixtures> {
  const sender = keys.sender ?? seed003Keys();
  const recipient = keys.recipient ?? seed003Keys();
  const sent: Seed003Wire = {
    id: randomUUID(),
    timestamp: new Date().toISOString(),
    senderId,
    recipientId,
    type: 'ChatMessage',
    payload: await seed003Seal(data, sender.privatePem, recipient.publicPem),
  };
  return {
    sender,
    recipient,
    token: await seed003Token(senderId, sender.privatePem),
    sent,
    delivered: { ...sent, receivedAt: new Date().toISOString() },
    acks: {
      ok: { status: 'ok' },
      decryptionFailed: { status: 'error', errors: [{ type: 'DECRYPTION_FAILED', message: 'Failed to decrypt message' }] },
      deliveryFailed: { status: 'error', errors: [{ type: 'DELIVERY_FAILED', message: 'Failed to deliver message' }] },
    },
  };
}
