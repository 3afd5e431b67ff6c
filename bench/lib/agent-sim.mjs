// A light agent simulator (child process, driven over IPC): K socket.io-client connections to one dmr-server,
// each authenticated with a real ES256 handshake token signed by its own key. It acks every delivery and answers
// pings with pongs (payloads really sealed and opened), so a message round trip can be timed while all K are connected.
// To stay light it does not parse the agent lists it receives (~K×1 KB with certificates): it counts their bytes and,
// for a versioned list, reads the version from the packet's tail, so a reconnect can announce it like a dmr-agent does.
import { readFileSync } from 'node:fs';
import {
  AGENT_LIST_DELTA_FEATURE,
  AGENT_LIST_VERSION_FIELD,
  AGENT_NAMESPACE,
  createAgentToken,
  EVENTS,
  importPrivateKey,
  importPublicKey,
  openPayload,
  sealPayload,
} from '@dmr/shared';
import { io } from 'socket.io-client';
import * as parser from 'socket.io-parser';

const LIST_PREFIXES = [EVENTS.fullList, EVENTS.partialList].map((event) => `${parser.PacketType.EVENT}${AGENT_NAMESPACE},["${event}"`);
// the versioned list's meta is the argument's last element: `…,{"version":"<hex>"…}]]`
const VERSION_IN_TAIL = /"version":"([0-9a-f]{64})"[^\]]*\]\]$/;
/** List packets and their bytes received during the current `connect` command. */
let listStats = { events: 0, bytes: 0 };
/** The list version each simulated agent holds (from the last versioned list it received). */
const versions = new Map();

class LightDecoder extends parser.Decoder {
  add(chunk) {
    const prefix = typeof chunk === 'string' ? LIST_PREFIXES.find((candidate) => chunk.startsWith(candidate)) : undefined;
    if (prefix) {
      listStats.events += 1;
      listStats.bytes += chunk.length;
      const version = VERSION_IN_TAIL.exec(chunk.slice(-200))?.[1];
      if (version && this.owner) versions.set(this.owner, version);
      this.emitReserved('decoded', {
        type: parser.PacketType.EVENT,
        nsp: AGENT_NAMESPACE,
        data: [prefix.slice(prefix.indexOf('"') + 1, -1), [[]]],
      });
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

/**
 * The handshake `auth`: `versioned` announces versioned lists and the version held (the last one received, else
 * `heldVersion`), as a dmr-agent does; `legacy` announces nothing, as seed 003's agents do (the whole list each connect).
 */
function authFor(identity, token, mode, heldVersion) {
  if (mode === 'legacy') return { token };
  const version = versions.get(identity.id) ?? heldVersion;
  return { token, features: [AGENT_LIST_DELTA_FEATURE], ...(version ? { [AGENT_LIST_VERSION_FIELD]: version } : {}) };
}

async function connectOne(identity, mode, heldVersion) {
  const token = await createAgentToken(identity.id, keysOf(identity).privateKey);
  const socket = io(`${serverUrl}${AGENT_NAMESPACE}`, {
    auth: authFor(identity, token, mode, heldVersion),
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    autoConnect: false,
    parser: LIGHT_PARSER,
  });
  // one Manager (and decoder) per socket (forceNew): the decoder knows whose list it reads
  socket.io.decoder.owner = identity.id;
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
    socket.connect();
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

/**
 * Connects agents `from`…`to`-1, `concurrency` handshakes at a time; `mode` as in {@link authFor}. `heldVersion`: the
 * list version an agent that received none yet announces (as a dmr-agent that held the list before a failover).
 */
async function connectAll({ from, to, concurrency, mode = 'versioned', heldVersion }) {
  listStats = { events: 0, bytes: 0 };
  const startedAt = performance.now();
  let next = from;
  let failed = 0;
  let firstError;
  const worker = async () => {
    while (next < to) {
      const identity = identities[next++];
      await connectOne(identity, mode, heldVersion).catch((error) => {
        failed += 1;
        firstError ??= error instanceof Error ? error.message : String(error);
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ms = performance.now() - startedAt;
  // list packets are written right after the connect: give the last ones a moment to arrive before counting
  await new Promise((resolve) => setTimeout(resolve, 500));
  return {
    connected: sockets.size,
    failed,
    firstError,
    ms,
    listEvents: listStats.events,
    listBytes: listStats.bytes,
    versionsHeld: versions.size,
  };
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
