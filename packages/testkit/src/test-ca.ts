// @peculiar/x509's DI container needs the reflect-metadata polyfill before the library is evaluated
import 'reflect-metadata';
import { generateKeyPairSync, type KeyObject, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const DAY_MS = 86_400_000;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** A certificate's validity window. */
export interface CertWindow {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** What a test CRL says. */
export interface TestCrlOptions {
  /** CRL number (extension 2.5.29.20); none when undefined. */
  readonly number?: number;
  /** Default: an hour ago. */
  readonly thisUpdate?: Date;
  /** Default: seven days after thisUpdate. */
  readonly nextUpdate?: Date;
  /** Revoked serials, hex (a certificate's `serialNumber`). */
  readonly revokedSerials?: readonly string[];
}

/** What a test leaf says: SAN URIs (default `urn:dmr:agent:<agentId>`), validity, CA flag. */
export interface TestLeafOptions {
  /** SAN URIs; default one `urn:dmr:agent:<agentId>`. */
  readonly uris?: readonly string[];
  /** Default: from one day ago to 30 days ahead. */
  readonly window?: CertWindow;
  /** Mark the leaf as a CA (basicConstraints CA:true). */
  readonly isCa?: boolean;
}

/**
 * An in-memory CA for unit and integration tests (keys generated at run time, nothing written to disk): a self-signed
 * P-256 root, intermediates, and agent leaf certificates for a given public key with any SAN and validity, including
 * the broken ones a verifier must refuse. For CA files on disk use `@dmr/control`'s CA (see test/support/pki.ts).
 */
export class TestCa {
  readonly certificate: x509.X509Certificate;
  readonly #signingKey: webcrypto.CryptoKey;

  private constructor(certificate: x509.X509Certificate, signingKey: webcrypto.CryptoKey) {
    this.certificate = certificate;
    this.#signingKey = signingKey;
  }

  /** A new self-signed root CA named `commonName`. */
  static async create(commonName = 'DMR Test CA', window: CertWindow = defaultWindow()): Promise<TestCa> {
    const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const certificate = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: new x509.Name([{ CN: [{ utf8String: commonName }] }]),
      notBefore: window.notBefore,
      notAfter: window.notAfter,
      keys,
      signingAlgorithm: SIGNING,
      extensions: await caExtensions(keys.publicKey),
    });
    return new TestCa(certificate, keys.privateKey);
  }

  /** PEM of the CA certificate (a trust anchor). */
  get pem(): string {
    return this.certificate.toString('pem');
  }

  /** PEM (`X509 CRL` label) of a CRL signed by this CA. */
  async crlPem(options: TestCrlOptions = {}): Promise<string> {
    const thisUpdate = options.thisUpdate ?? new Date(Date.now() - 3_600_000);
    const crl = await x509.X509CrlGenerator.create({
      issuer: this.certificate.subjectName,
      thisUpdate,
      nextUpdate: options.nextUpdate ?? new Date(thisUpdate.getTime() + 7 * DAY_MS),
      signingKey: this.#signingKey,
      signingAlgorithm: SIGNING,
      extensions: options.number === undefined ? [] : [new x509.Extension('2.5.29.20', false, derInteger(options.number))],
      entries: (options.revokedSerials ?? []).map((serialNumber) => ({ serialNumber, revocationDate: thisUpdate })),
    });
    return x509.PemConverter.encode(crl.rawData, 'X509 CRL');
  }

  /** An intermediate CA signed by this one. */
  async intermediate(commonName = 'DMR Test Intermediate CA', window: CertWindow = defaultWindow()): Promise<TestCa> {
    const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const certificate = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: new x509.Name([{ CN: [{ utf8String: commonName }] }]),
      issuer: this.certificate.subjectName,
      notBefore: window.notBefore,
      notAfter: window.notAfter,
      publicKey: keys.publicKey,
      signingKey: this.#signingKey,
      signingAlgorithm: SIGNING,
      extensions: [...(await caExtensions(keys.publicKey)), await x509.AuthorityKeyIdentifierExtension.create(this.certificate.publicKey)],
    });
    return new TestCa(certificate, keys.privateKey);
  }

  /** PEM of an agent certificate (CN = agentId, EKU clientAuth) for `publicKey`, signed by this CA. */
  async agentCertificate(agentId: string, publicKey: KeyObject, options: TestLeafOptions = {}): Promise<string> {
    const window = options.window ?? defaultWindow();
    const subjectKey = await toWebCryptoPublicKey(publicKey);
    const uris = options.uris ?? [`urn:dmr:agent:${agentId}`];
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(options.isCa === true, undefined, true),
      new x509.KeyUsagesExtension(
        options.isCa === true ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature : x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
      await x509.SubjectKeyIdentifierExtension.create(subjectKey),
      await x509.AuthorityKeyIdentifierExtension.create(this.certificate.publicKey),
    ];
    if (uris.length > 0)
      extensions.push(
        new x509.SubjectAlternativeNameExtension(
          uris.map((value) => ({ type: 'url' as const, value })),
          false,
        ),
      );
    const certificate = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: new x509.Name([{ CN: [{ utf8String: agentId }] }]),
      issuer: this.certificate.subjectName,
      notBefore: window.notBefore,
      notAfter: window.notAfter,
      publicKey: subjectKey,
      signingKey: this.#signingKey,
      signingAlgorithm: SIGNING,
      extensions,
    });
    return certificate.toString('pem');
  }
}

/**
 * A self-signed certificate for `agentId` with the right SAN, made with a throwaway CA key: what an attacker without
 * the DMR CA's key can produce.
 */
export async function selfSignedAgentCertificate(agentId: string, publicKey: KeyObject): Promise<string> {
  const impostor = await TestCa.create(agentId);
  return impostor.agentCertificate(agentId, publicKey);
}

/** A fresh P-256 key pair as KeyObjects and PEM. */
export function testKeyPair(kind: 'ec' | 'rsa' = 'ec'): {
  privateKey: KeyObject;
  publicKey: KeyObject;
  privatePem: string;
  publicPem: string;
} {
  const pair = kind === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    ...pair,
    privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** A validity window `fromDays`..`toDays` relative to now (negative = past). */
export function windowDays(fromDays: number, toDays: number, now = Date.now()): CertWindow {
  return { notBefore: new Date(now + fromDays * DAY_MS), notAfter: new Date(now + toDays * DAY_MS) };
}

function defaultWindow(): CertWindow {
  return windowDays(-1, 30);
}

async function caExtensions(publicKey: webcrypto.CryptoKey): Promise<x509.Extension[]> {
  return [
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
  ];
}

async function toWebCryptoPublicKey(key: KeyObject): Promise<webcrypto.CryptoKey> {
  const spki = key.export({ type: 'spki', format: 'der' });
  const algorithm =
    key.asymmetricKeyType === 'rsa' ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : { name: 'ECDSA', namedCurve: 'P-256' };
  return webcrypto.subtle.importKey('spki', spki, algorithm, true, ['verify']);
}

/** A non-negative integer as a DER INTEGER. */
function derInteger(value: number): Uint8Array {
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (Number.parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
  const content = Buffer.from(hex, 'hex');
  return Uint8Array.from([0x02, content.length, ...content]);
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}
