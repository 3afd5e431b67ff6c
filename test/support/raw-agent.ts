// A bare protocol client standing in for a misbehaving or foreign agent: it speaks the Socket.IO protocol
// directly so tests can send what a real dmr-agent never would (forged sender, tampered metadata).
import { AGENT_NAMESPACE, createAgentToken, EVENTS, importPrivateKey, type SendAck } from '@dmr/shared';
import { io, type Socket } from 'socket.io-client';
import { agentLeaf, type Identity, testPki } from './dmr-system.js';

/** A connected raw agent. */
export interface RawAgent {
  readonly socket: Socket;
  send(message: unknown): Promise<SendAck>;
  close(): void;
}

/** TLS material for a raw agent (any of it may be left out to test refusals). */
export interface RawTls {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

/** Connects as `identity`; over https it presents `tls`, by default the identity's certificate from the test PKI. */
export async function connectRawAgent(serverUrl: string, identity: Identity, tls?: RawTls): Promise<RawAgent> {
  const material = tls ?? (serverUrl.startsWith('https:') ? await defaultTls(identity.id) : {});
  return connectWith(serverUrl, identity, material);
}

async function defaultTls(agentId: string): Promise<RawTls> {
  const [pki, leaf] = await Promise.all([testPki(), agentLeaf(agentId)]);
  return { ca: pki.caCert, cert: leaf.cert, key: leaf.key };
}

async function connectWith(serverUrl: string, identity: Identity, tls: RawTls): Promise<RawAgent> {
  return connectPresenting(serverUrl, await createAgentToken(identity.id, importPrivateKey(identity.privatePem)), tls);
}

/**
 * Connects as `identity` (its certificate from the test PKI over https) presenting exactly `token` as the
 * handshake's `auth.token`, to test a given token, good or bad.
 */
export async function connectRawAgentWithToken(serverUrl: string, identity: Identity, token: string): Promise<RawAgent> {
  return connectPresenting(serverUrl, token, serverUrl.startsWith('https:') ? await defaultTls(identity.id) : {});
}

async function connectPresenting(serverUrl: string, token: string, tls: RawTls): Promise<RawAgent> {
  const socket = io(`${serverUrl}${AGENT_NAMESPACE}`, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...tls,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
  return {
    socket,
    send: (message) => socket.timeout(10_000).emitWithAck(EVENTS.messageToServer, message) as Promise<SendAck>,
    close: () => socket.close(),
  };
}
