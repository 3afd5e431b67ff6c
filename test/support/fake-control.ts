// A stand-in for dmr-control's certificate endpoints (POST /v1/enroll, POST /v1/renew; docs/control-plane.md) over
// real TLS, signing with the test PKI's CA key: enough to test the agents' and servers' side of enrollment and
// renewal before dmr-control serves them. It checks what dmr-control checks (token known, unused, unexpired; a CSR
// naming the requester; renewal by the certificate being renewed, same key) and answers with its error codes.
import { createHash, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { caPaths } from '@dmr/control';
import { x509 } from '@dmr/shared/pki';
import type { TestPki } from './pki.js';

interface TokenRecord {
  readonly agentId: string;
  readonly expiresAtMs: number;
  usedAtMs?: number;
}

/** One request as the fake saw it. */
export interface ControlCall {
  readonly path: string;
  readonly status: number;
  readonly code?: string;
  /** Serial of the certificate issued (hex, upper case), when one was. */
  readonly serial?: string;
  /** SAN URI of the client certificate a renewal came with. */
  readonly caller?: string;
}

/** Validity of every certificate issued from now on, ms. */
export type LifetimeMs = () => number;

const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** The fake dmr-control. `url` is its base URL; `caFile` is the CA of its TLS certificate (the test PKI's CA). */
export class FakeControl {
  readonly calls: ControlCall[] = [];
  /** The raw bodies of every `/v1/enroll` request (to check that nothing secret was sent). */
  readonly enrollBodies: string[] = [];
  /** When set, `/v1/renew` answers this refusal instead of issuing. */
  renewRefusal: { status: number; code: string } | undefined;
  lifetimeMs: LifetimeMs = () => 3_600_000;
  /** Relay-user certificates renewed on a server's behalf. */
  relayRenewals = 0;
  url = '';
  /** What `GET /v1/ca-certificates` answers (PEM); undefined = the test PKI's CA. */
  caBundle: string | undefined;
  /** The `X-DMR-Active-CA` header of that answer (a SHA-256 fingerprint); undefined = none. */
  activeCaSha256: string | undefined;
  readonly #tokens = new Map<string, TokenRecord>();
  readonly #pki: TestPki;
  #server: Server | undefined;
  #signingKey: webcrypto.CryptoKey | undefined;
  #caCertificate: x509.X509Certificate | undefined;

  constructor(pki: TestPki) {
    this.#pki = pki;
  }

  /** The test PKI's CA certificate file: what `DMR_CONTROL_CA_FILE` points at. */
  get caFile(): string {
    return this.#pki.caCertPath;
  }

  async start(): Promise<this> {
    const paths = caPaths(this.#pki.caDir);
    this.#caCertificate = new x509.X509Certificate(readFileSync(paths.certificate, 'utf8'));
    const der = createPrivateKey(readFileSync(paths.key, 'utf8')).export({ type: 'pkcs8', format: 'der' });
    this.#signingKey = await webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    const tls = await this.#pki.server(`control-${randomBytes(4).toString('hex')}`);
    this.#server = createServer(
      { cert: tls.cert, key: tls.key, ca: this.#pki.caCert, requestCert: true, rejectUnauthorized: false },
      (request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        request.on('end', () => {
          if (request.method === 'GET' && request.url === '/v1/ca-certificates') {
            this.calls.push({ path: request.url, status: 200 });
            const headers = this.activeCaSha256 === undefined ? {} : { 'x-dmr-active-ca': this.activeCaSha256 };
            response.writeHead(200, { 'content-type': 'application/x-pem-file', ...headers }).end(this.caBundle ?? this.#pki.caCert);
            return;
          }
          // a server with DMR_CONTROL_URL reads its policy here (issue 19): this control plane stores none
          if (request.method === 'GET' && request.url === '/v1/policies/latest') {
            const none = { statusCode: 404, code: 'DMR_CONTROL_NOT_FOUND', message: 'no policy version is stored' };
            response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify(none));
            return;
          }
          this.#handle(request.url ?? '', body, request.socket as TLSSocket).then(
            ({ status, answer }) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer)),
            (error: unknown) =>
              response.writeHead(500).end(JSON.stringify({ statusCode: 500, code: 'DMR_INTERNAL_ERROR', message: String(error) })),
          );
        });
      },
    );
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    this.url = `https://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  /** A one-time enrollment token for `agentId`, valid `expiresInMs` (negative: already expired). */
  addToken(agentId: string, expiresInMs = 600_000): string {
    const token = `dmr_et_${randomBytes(24).toString('base64url')}`;
    this.#tokens.set(hash(token), { agentId, expiresAtMs: Date.now() + expiresInMs });
    return token;
  }

  /**
   * Issues a certificate outside any request (the starting point of a test): for `publicKeyPem`, naming `uris`
   * (SAN URIs) plus `dnsNames`/`ipAddresses`, CN `commonName`, EKU serverAuth + clientAuth when `isServer`.
   */
  async issue(profile: IssueProfile, publicKeyPem: string): Promise<string> {
    const spki = Buffer.from(publicKeyPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const publicKey = new x509.PublicKey(spki);
    return (await this.#sign(profile, publicKey)).toString('pem');
  }

  /** Writes `pem` to a new file in the PKI's directory and returns its path. */
  writeFile(name: string, pem: string): string {
    const path = join(this.#pki.dir, name);
    writeFileSync(path, pem);
    return path;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  async #handle(path: string, body: string, socket: TLSSocket): Promise<{ status: number; answer: unknown }> {
    if (path === '/v1/enroll') this.enrollBodies.push(body);
    const parsed = JSON.parse(body) as { token?: string; csr?: string };
    const outcome =
      path === '/v1/enroll' ? await this.#enroll(parsed) : path === '/v1/renew' ? await this.#renew(parsed, socket) : notFound();
    const answer = outcome.pem
      ? { certificate: outcome.pem, caCertificates: this.#pki.caCert }
      : { statusCode: outcome.status, code: outcome.code, message: `refused: ${outcome.code}` };
    const serial = outcome.pem ? new x509.X509Certificate(outcome.pem).serialNumber.toUpperCase() : undefined;
    this.calls.push({
      path,
      status: outcome.status,
      ...(outcome.code ? { code: outcome.code } : {}),
      ...(serial ? { serial } : {}),
      ...(outcome.caller ? { caller: outcome.caller } : {}),
    });
    return { status: outcome.status, answer };
  }

  async #enroll(request: { token?: string; csr?: string }): Promise<Outcome> {
    const record = this.#tokens.get(hash(request.token ?? ''));
    if (!record) return refused(401, 'DMR_CONTROL_TOKEN_UNKNOWN');
    if (record.usedAtMs !== undefined) return refused(401, 'DMR_CONTROL_TOKEN_USED');
    if (record.expiresAtMs <= Date.now()) return refused(401, 'DMR_CONTROL_TOKEN_EXPIRED');
    const csr = new x509.Pkcs10CertificateRequest(request.csr ?? '');
    if (!(await csr.verify()) || !sanUris(csr).includes(`urn:dmr:agent:${record.agentId}`))
      return refused(400, 'DMR_CONTROL_CSR_SUBJECT_MISMATCH');
    record.usedAtMs = Date.now();
    const profile = { commonName: record.agentId, uris: [`urn:dmr:agent:${record.agentId}`], isServer: false };
    return { status: 201, pem: (await this.#sign(profile, csr.publicKey)).toString('pem') };
  }

  async #renew(request: { csr?: string; certificate?: string }, socket: TLSSocket): Promise<Outcome> {
    const peer = socket.getPeerX509Certificate();
    if (!peer || !socket.authorized) return refused(401, 'DMR_CONTROL_CERTIFICATE_REQUIRED');
    const caller = (peer.subjectAltName ?? '')
      .split(', ')
      .find((name) => name.startsWith('URI:urn:dmr:'))
      ?.slice(4);
    if (this.renewRefusal) return { ...refused(this.renewRefusal.status, this.renewRefusal.code), ...(caller ? { caller } : {}) };
    if (request.certificate !== undefined)
      return this.#renewRelayUser({ csr: request.csr ?? '', certificate: request.certificate }, caller);
    const csr = new x509.Pkcs10CertificateRequest(request.csr ?? '');
    const samePublicKey = Buffer.from(csr.publicKey.rawData).equals(peer.publicKey.export({ type: 'spki', format: 'der' }));
    if (!(await csr.verify()) || !caller || !sanUris(csr).includes(caller)) return refused(400, 'DMR_CONTROL_CSR_SUBJECT_MISMATCH');
    if (!samePublicKey) return refused(400, 'DMR_CONTROL_RENEWAL_KEY_CHANGED');
    const names = new x509.X509Certificate(peer.raw).getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? [];
    const profile = {
      commonName: peer.subject.replace(/^CN=/, ''),
      uris: [caller],
      dnsNames: names.filter((name) => name.type === 'dns').map((name) => name.value),
      ipAddresses: names.filter((name) => name.type === 'ip').map((name) => name.value),
      isServer: caller.startsWith('urn:dmr:server:'),
    };
    return { status: 201, pem: (await this.#sign(profile, csr.publicKey)).toString('pem'), caller };
  }

  /** dmr-control's rule: only a server renews the relay user's certificate, for the key and CN that certificate has. */
  async #renewRelayUser(request: { csr: string; certificate: string }, caller: string | undefined): Promise<Outcome> {
    if (!caller?.startsWith('urn:dmr:server:')) return refused(403, 'DMR_CONTROL_ROLE_FORBIDDEN');
    const current = new x509.X509Certificate(request.certificate);
    const csr = new x509.Pkcs10CertificateRequest(request.csr);
    const samePublicKey = Buffer.from(csr.publicKey.rawData).equals(Buffer.from(current.publicKey.rawData));
    if (!(await csr.verify()) || csr.subject !== current.subject) return refused(400, 'DMR_CONTROL_CSR_SUBJECT_MISMATCH');
    if (!samePublicKey) return refused(400, 'DMR_CONTROL_RENEWAL_KEY_CHANGED');
    const profile = { commonName: current.subject.replace(/^CN=/, ''), uris: [], isServer: false };
    this.relayRenewals += 1;
    return { status: 201, pem: (await this.#sign(profile, csr.publicKey)).toString('pem'), caller };
  }

  async #sign(profile: IssueProfile, publicKey: x509.PublicKey): Promise<x509.X509Certificate> {
    const ca = this.#caCertificate as x509.X509Certificate;
    const now = Date.now();
    const usage = x509.ExtendedKeyUsage;
    const sans = [
      ...(profile.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
      ...(profile.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
      ...profile.uris.map((value) => ({ type: 'url' as const, value })),
    ];
    return x509.X509CertificateGenerator.create({
      serialNumber: `7f${randomBytes(15).toString('hex')}`,
      subject: new x509.Name([{ CN: [{ utf8String: profile.commonName }] }]),
      issuer: ca.subjectName,
      notBefore: new Date(now - 1000),
      notAfter: new Date(now - 1000 + this.lifetimeMs()),
      publicKey,
      signingKey: this.#signingKey as webcrypto.CryptoKey,
      signingAlgorithm: SIGNING,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension(profile.isServer ? [usage.serverAuth, usage.clientAuth] : [usage.clientAuth], false),
        ...(sans.length > 0 ? [new x509.SubjectAlternativeNameExtension(sans, false)] : []),
        await x509.AuthorityKeyIdentifierExtension.create(ca.publicKey),
      ],
    } as Parameters<typeof x509.X509CertificateGenerator.create>[0]);
  }
}

/** What {@link FakeControl.issue} puts in a certificate. */
export interface IssueProfile {
  readonly commonName: string;
  readonly uris: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly isServer: boolean;
}

interface Outcome {
  readonly status: number;
  readonly code?: string;
  readonly pem?: string;
  readonly caller?: string;
}

function refused(status: number, code: string): Outcome {
  return { status, code };
}

function notFound(): Outcome {
  return refused(404, 'DMR_CONTROL_NOT_FOUND');
}

function hash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function sanUris(csr: x509.Pkcs10CertificateRequest): string[] {
  const extension = csr.getExtension('2.5.29.17') as x509.SubjectAlternativeNameExtension | null;
  return (extension?.names.toJSON() ?? []).filter((name) => name.type === 'url').map((name) => name.value);
}
