// Agent identities with keys generated at run time (never written outside the run's temp dir), the CentOps
// registry document, and the v1 message the load generators send.
import { createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { agentProfile, caPaths, DEFAULT_LEAF_VALIDITY_DAYS, initCa, issueAgentCertificate } from '@dmr/control';

// dmr-control's own signing and CA loading (not part of its package surface): the scale step's thousands of agents
// get certificates made by exactly the code `dmrctl cert agent` runs, without its per-certificate CA state rewrite
const DMR_ROOT = process.env.BENCH_DMR_ROOT ?? join(import.meta.dirname, '..', '..');
const controlCa = (file) => import(pathToFileURL(join(DMR_ROOT, 'packages', 'control', 'dist', 'ca', file)).href);
const { signLeaf, validityFor } = await controlCa('issue.js');
const { openCa } = await controlCa('ca-store.js');

/**
 * A fresh identity: `kind` is `ec` (P-256) or `rsa` (2048 bits). The id is a plain UUID (POST /v1/messages takes UUID
 * recipients only, seed 003); `label` names it in the registry (`<label>-<first id digits>`).
 */
export function makeIdentity(kind, label = 'bench') {
  const pair = kind === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const id = randomUUID();
  return {
    id,
    name: `${label}-${id.slice(0, 8)}`,
    kind,
    privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/**
 * Makes a CA for this run in `<dir>/pki` and issues each identity a certificate for its own key (SAN
 * urn:dmr:agent:<id>), set as `identity.certificatePem`. Returns the CA certificate's path: the agents'
 * DMR_PEER_CA_FILE, since an agent trusts a peer's key only through it.
 */
export async function certifyIdentities(dir, identities) {
  const caDir = join(dir, 'pki', 'ca');
  const outDir = join(dir, 'pki', 'certs');
  const ca = await initCa({ dir: caDir, commonName: 'DMR bench CA' });
  for (const identity of identities) {
    const leaf = await issueAgentCertificate(caDir, identity.id, { outDir, name: identity.id, publicKeyPem: identity.publicPem });
    identity.certificatePem = leaf.certificatePem;
  }
  return ca.certificatePath;
}

/**
 * Like {@link certifyIdentities} for thousands of identities: one CA opened once, each certificate signed by
 * dmr-control's `signLeaf` with the agent profile (SAN urn:dmr:agent:<id>, EKU clientAuth), as `dmrctl cert agent`
 * would issue it, but without writing a file and a CA state record per certificate (that rewrite made issuing 5000
 * take minutes). Returns the CA certificate's path.
 */
export async function certifyManyIdentities(dir, identities) {
  const caDir = join(dir, 'pki', 'scale-ca');
  const ca = await initCa({ dir: caDir, commonName: 'DMR bench scale CA' });
  const { signer } = await openCa(caPaths(caDir));
  const validity = validityFor(DEFAULT_LEAF_VALIDITY_DAYS, new Date());
  // WebCrypto signs on libuv's pool: a few dozen in flight keep every core busy
  for (let start = 0; start < identities.length; start += 64) {
    await Promise.all(
      identities.slice(start, start + 64).map(async (identity) => {
        const certificate = await signLeaf(signer, agentProfile(identity.id), createPublicKey(identity.publicPem), validity);
        identity.certificatePem = certificate.toString('pem');
      }),
    );
  }
  return ca.certificatePath;
}

/**
 * Writes the CentOps document listing `identities` to `<dir>/<name>` and returns its file:// URL. Every bench identity
 * has a CA-issued certificate by then; one without is listed with its bare public key.
 */
export function writeRegistry(dir, name, identities) {
  const now = new Date().toISOString();
  const response = identities.map((identity) => ({
    id: identity.id,
    name: identity.name ?? identity.id,
    authentication_certificate: identity.certificatePem ?? identity.publicPem,
    created_at: now,
    updated_at: now,
  }));
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ response }));
  return `file://${file}`;
}

/** Writes the private key of `identity` to a 0600 file and returns its path. */
export function writeKeyFile(dir, identity) {
  const file = join(dir, `${identity.id}.pem`);
  writeFileSync(file, identity.privatePem, { mode: 0o600 });
  return file;
}

const CONTENT = 'Tere! Kas te oskate öelda, millal on tuludeklaratsiooni esitamise tähtaeg ja kuidas saan tagastuse kiiremini? '.repeat(4);

/** Conversations the load is spread over: the recipient delivers each chat's messages in order, one at a time. */
const CHATS = 512;

/**
 * A seed 003 v1 body for `recipientId` of about 1 KB (a realistic chat hand-over: chat fields and one message).
 * Only `id` and the chat change between messages (message n belongs to chat n mod 512, like many concurrent
 * conversations), so `bodyFor(id, n)` is a cheap string build.
 */
export function messageTemplate(recipientId) {
  const now = new Date().toISOString();
  const body = {
    id: '__ID__',
    recipientId,
    timestamp: now,
    type: 'ChatMessage',
    payload: {
      chat: { id: '__CHAT__', created: now, endUserFirstName: 'Mari', endUserLastName: 'Maasikas', endUserEmail: 'mari@example.ee' },
      messages: [{ id: randomUUID(), chatId: '__CHAT__', content: CONTENT, authorTimestamp: now, authorRole: 'end-user', buttons: '[]' }],
    },
  };
  const parts = JSON.stringify(body).split(/__ID__|__CHAT__/);
  const chats = Array.from({ length: CHATS }, () => randomUUID());
  let next = 0;
  const bodyFor = (id) => {
    const chat = chats[next++ % CHATS];
    return `${parts[0]}${id}${parts[1]}${chat}${parts[2]}${chat}${parts[3]}`;
  };
  return { bodyFor, sample: JSON.parse(bodyFor(randomUUID())) };
}
