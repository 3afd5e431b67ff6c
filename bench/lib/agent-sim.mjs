// A light agent simulator (child process, driven over IPC): K socket.io-client connections to one dmr-server,
// each authenticated with a real ES256 handshake token signed by its own key. It acks every delivery and answers
// pings with pongs (payloads really sealed and opened), so a message round trip can be timed while all K are connected.
// To stay light it does not parse the ~K×350-byte full agent list each connection receives (it only counts its bytes).
import { readFileSync } from 'node:fs';
import { AGENT_NAMESPACE, createAgentToken, EVENTS, importPrivateKey, importPublicKey, openPayload, sealPayload } from '@dmr/shared';
import { io } from 'socket.io-client';
import * as parser from 'socket.io-parser';

const FULL_LIST_PREFIX = `${parser.PacketType.EVENT}${AGENT_NAMESPACE},["${EVENTS.fullList}"`;
let fullListBytes = 0;
let fullLists = 0;

class LightDecoder extends parser.Decoder {
  add(chunk) {
    if (typeof chunk === 'string' && chunk.startsWith(FULL_LIST_PREFIX)) {
      fullListBytes += chunk.length;
      fullLists += 1;
      this.emitReserved('decoded', { type: parser.PacketType.EVENT, nsp: AGENT_NAMESPACE, data: [EVENTS.fullList, [[]]] });
      return;
    }
    super.add(chunk);
  }
}
const LIGHT_PARSER = { protocol: parser.protocol, Encoder: parser.Encoder, Decoder: LightDecoder };

const identities = JSON.parse(readFileSync(process.env.SIM_IDENTITIES_FILE, 'utf8'));
const serverUrl = process.env.SIM_SERVER_URL;
const sockets = new Map();
const keys = new Map();
const waiters = new Map();

function keysOf(identity) {
  let entry = keys.get(identity.id);
  if (!entry) {
    entry = { privateKey: importPrivateKey(identity.privatePem), publicKey: importPublicKey(identity.publicPem) };
    keys.set(identity.id, entry);
  }
  return entry;
}

async function connectOne(identity) {
  const token = await createAgentToken(identity.id, keysOf(identity).privateKey);
  const socket = io(`${serverUrl}${AGENT_NAMESPACE}`, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    parser: LIGHT_PARSER,
  });
  socket.on(EVENTS.messageFromServer, (message, ack) => void onDelivery(identity, message, ack));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('connect timeout')), 60_000);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('connect_error', (error) => {
      clearTimeout(timer);
      socket.close();
      reject(error);
    });
  });
  sockets.set(identity.id, socket);
}

async function onDelivery(identity, message, ack) {
  const waiter = waiters.get(message.id);
  if (waiter) {
    const sender = identities.find((candidate) => candidate.id === message.senderId);
    const opened = await openPayload(message.payload, message, {
      recipientKey: keysOf(identity).privateKey,
      senderKey: keysOf(sender).publicKey,
      allowUnboundMetadata: false,
    });
    waiters.delete(message.id);
    waiter(opened.ok);
  }
  ack({ status: 'ok' });
}

async function connectAll({ from, to, concurrency }) {
  const startedAt = performance.now();
  let next = from;
  let failed = 0;
  let firstError;
  const worker = async () => {
    while (next < to) {
      const identity = identities[next++];
      await connectOne(identity).catch((error) => {
        failed += 1;
        firstError ??= error instanceof Error ? error.message : String(error);
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { connected: sockets.size, failed, firstError, ms: performance.now() - startedAt, fullLists, fullListBytes };
}

async function send(from, to, id) {
  const sender = identities[from];
  const recipient = identities[to];
  const metadata = { id, senderId: sender.id, recipientId: recipient.id, type: 'ChatMessage', timestamp: new Date().toISOString() };
  const now = metadata.timestamp;
  const data = {
    chat: { id: 'scale', created: now },
    messages: [{ id, chatId: 'scale', content: 'ping', authorTimestamp: now, authorRole: 'bot' }],
  };
  const payload = await sealPayload(metadata, data, keysOf(sender).privateKey, keysOf(recipient).publicKey);
  const delivered = new Promise((resolve) => waiters.set(id, resolve));
  const ack = await sockets
    .get(sender.id)
    .timeout(10_000)
    .emitWithAck(EVENTS.messageToServer, { ...metadata, payload });
  if (ack.status !== 'ok') throw new Error(`server refused: ${ack.error} ${ack.reason ?? ''}`);
  const opened = await Promise.race([delivered, new Promise((resolve) => setTimeout(() => resolve('timeout'), 10_000))]);
  if (opened !== true) throw new Error(`delivery ${id}: ${opened === 'timeout' ? 'timed out' : 'did not open'}`);
}

/** Ping A→B then pong B→A, `count` times in a row; returns the round-trip times in ms. */
async function roundTrips({ a, b, count, tag }) {
  const times = [];
  for (let i = 0; i < count; i++) {
    const startedAt = performance.now();
    await send(a, b, `${tag}-ping-${i}`);
    await send(b, a, `${tag}-pong-${i}`);
    times.push(performance.now() - startedAt);
  }
  return { times };
}

const commands = {
  connect: connectAll,
  roundTrips,
  close: async () => {
    for (const socket of sockets.values()) socket.close();
    sockets.clear();
    return {};
  },
};

process.on('message', (request) => {
  const run = commands[request.cmd];
  Promise.resolve()
    .then(() => run(request))
    .then(
      (result) => process.send({ id: request.id, ok: true, result }),
      (error) => process.send({ id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) }),
    );
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
