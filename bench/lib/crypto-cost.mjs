// CPU cost of the JOSE envelope on this CPU, in the bench process: DMR's node:crypto path (sealPayload / openPayload)
// against the same JWS-in-JWE done with jose 6 (WebCrypto), for EC P-256 and RSA-2048, same ~1 KB payload.
import { createECDH } from 'node:crypto';
import {
  EphemeralKeyReuse,
  ecdhP256,
  importPrivateKey,
  importPublicKey,
  KeyAgreementCache,
  nodeEcdhP256,
  openPayload,
  scalarBytes,
  sealPayload,
} from '@dmr/shared';
import { CompactEncrypt, CompactSign, compactDecrypt, compactVerify } from 'jose';

const encoder = new TextEncoder();
const ALGS = { ec: { sign: 'ES256', wrap: 'ECDH-ES+A256KW' }, rsa: { sign: 'RS256', wrap: 'RSA-OAEP-256' } };

async function cpuMsPerOp(count, operation) {
  for (let i = 0; i < Math.min(50, count); i++) await operation();
  const before = process.cpuUsage();
  for (let i = 0; i < count; i++) await operation();
  const used = process.cpuUsage(before);
  return Math.round(((used.user + used.system) / 1000 / count) * 1000) / 1000;
}

function joseOps(kind, sender, recipient, claims) {
  const seal = async () => {
    const jws = await new CompactSign(encoder.encode(JSON.stringify(claims)))
      .setProtectedHeader({ alg: ALGS[kind].sign })
      .sign(sender.ref.key);
    return new CompactEncrypt(encoder.encode(jws))
      .setProtectedHeader({ alg: ALGS[kind].wrap, enc: 'A256GCM', cty: 'JWT' })
      .encrypt(recipient.pub.key);
  };
  const open = async (jwe) => {
    const { plaintext } = await compactDecrypt(jwe, recipient.ref.key);
    await compactVerify(new TextDecoder().decode(plaintext), sender.pub.key);
  };
  return { seal, open };
}

/** Measures seal and open for one key kind (`ec` or `rsa`); `identities` are two bench identities of that kind. */
export async function measureCryptoCost(kind, [a, b], template, count) {
  const sender = { ref: importPrivateKey(a.privatePem), pub: importPublicKey(a.publicPem) };
  const recipient = { ref: importPrivateKey(b.privatePem), pub: importPublicKey(b.publicPem) };
  const metadata = { id: 'cost', senderId: a.id, recipientId: b.id, type: 'ChatMessage', timestamp: template.sample.timestamp };
  const data = template.sample.payload;
  const options = { recipientKey: recipient.ref, senderKey: sender.pub, allowUnboundMetadata: false };
  const jwe = await sealPayload(metadata, data, sender.ref, recipient.pub);
  const jose = joseOps(kind, sender, recipient, { ...metadata, data });
  const joseJwe = await jose.seal();
  return {
    kind,
    dmrSealMs: await cpuMsPerOp(count, () => sealPayload(metadata, data, sender.ref, recipient.pub)),
    dmrOpenMs: await cpuMsPerOp(count, () => openPayload(jwe, metadata, options)),
    joseSealMs: await cpuMsPerOp(count, jose.seal),
    joseOpenMs: await cpuMsPerOp(count, () => jose.open(joseJwe)),
    ...(kind === 'ec' ? await measureReuse(count, metadata, data, sender, recipient, options) : {}),
  };
}

/**
 * P-256 with the agent's defaults: ephemeral keys reused per recipient (`DMR_ECDH_EPHEMERAL_REUSE_MS`) on the sender,
 * agreements remembered by `epk` on the recipient. The rows above derive a key per message, as
 * `DMR_ECDH_EPHEMERAL_REUSE_MS=0` does.
 */
async function measureReuse(count, metadata, data, sender, recipient, options) {
  const sealing = { ephemeralKeys: new EphemeralKeyReuse({ maxAgeMs: 1000 }) };
  const opening = { ...options, agreements: { agreedKeys: new KeyAgreementCache() } };
  const jwe = await sealPayload(metadata, data, sender.ref, recipient.pub, sealing);
  return {
    dmrSealReusedMs: await cpuMsPerOp(count, () => sealPayload(metadata, data, sender.ref, recipient.pub, sealing)),
    dmrOpenReusedMs: await cpuMsPerOp(count, () => openPayload(jwe, metadata, opening)),
  };
}

/**
 * One P-256 key agreement (static, as agent B does per message) and one ephemeral key + agreement (agent A), with the
 * backend the envelope uses (`ecdhP256.backend`) and with node:crypto, in µs of CPU.
 */
export async function measureEcdhBackends(count) {
  const recipient = createECDH('prime256v1');
  const recipientPoint = recipient.generateKeys();
  const scalar = scalarBytes(recipient.getPrivateKey());
  const peerPoint = createECDH('prime256v1').generateKeys();
  const us = async (operation) => Math.round((await cpuMsPerOp(count, operation)) * 1000);
  return {
    backend: ecdhP256.backend,
    staticUs: await us(() => ecdhP256.agreement(scalar, peerPoint)),
    ephemeralUs: await us(() => ecdhP256.ephemeralAgreement(recipientPoint)),
    nodeStaticUs: await us(() => nodeEcdhP256.agreement(scalar, peerPoint)),
    nodeEphemeralUs: await us(() => nodeEcdhP256.ephemeralAgreement(recipientPoint)),
  };
}
