// The certificate lifecycle of dmr-control, as plain functions over the ports (no HTTP): enrollment tokens,
// enrollment, renewal, operator issuing, revocation, the CA and CRL bundles, and the CRL republish timer. The API's
// route plugins (api/routes/certificates.ts) map these outcomes to HTTP.

import { X509Certificate } from 'node:crypto';
import { DmrError } from '@dmr/shared/base';
import { verifyCsr } from '../ca/index.js';
import type { CertOutcome, RingPurpose } from '../domain/index.js';
import { type RotationRequest, type RotationResult, rotateCa } from './ca-rotation.js';
import type { LifecycleConfig } from './config.js';
import { CrlPublisher } from './crl-publisher.js';
import { CrlTimer } from './crl-timer.js';
import {
  createEnrollmentToken,
  createServiceEnrollmentToken,
  type EnrollmentTokenGrant,
  type ServiceTokenRequest,
} from './enrollment-tokens.js';
import { issueInTransaction } from './issuer.js';
import { type OperatorRequest, operatorProvisioner } from './operator-provisioner.js';
import type { Actor, AnnouncementKind, LifecycleDeps } from './ports.js';
import type { Provisioner } from './provisioner.js';
import { type RenewalRequest, renewalProvisioner } from './renewal-provisioner.js';
import { parseRevocationRequest, type Revocation, revokeInTransaction } from './revocation.js';
import type { CaRingHolder } from './ring-holder.js';
import { type TokenRequest, tokenProvisioner } from './token-provisioner.js';

/** The answer to an enrollment, renewal or operator issue: the certificate and the CA bundle to trust. */
export interface IssuedCertificateResponse {
  /** PEM of the new certificate. */
  readonly certificate: string;
  /** PEM bundle of the trusted CAs of the certificate's purpose (old and new during a change-over). */
  readonly caCertificates: string;
  readonly serial: string;
  /** ISO 8601. */
  readonly notAfter: string;
}

/** Dependencies of {@link CertificateLifecycle}: the ports plus the CA ring in force. */
export interface CertificateLifecycleDeps extends LifecycleDeps {
  readonly ring: CaRingHolder;
  /** Called when a ring reload changed the trusted CAs (e.g. to refresh the admin API's client-CA list). */
  readonly onTrustChanged?: () => void;
}

/** See the file comment. Build with `new CertificateLifecycle(deps, config)`; `start()` runs the CRL timer. */
export class CertificateLifecycle {
  readonly #deps: CertificateLifecycleDeps;
  readonly #config: LifecycleConfig;
  readonly #crls: CrlPublisher;
  readonly #timer: CrlTimer;
  readonly #tokens: Provisioner<TokenRequest>;
  readonly #renewal: Provisioner<RenewalRequest>;
  readonly #operator: Provisioner<OperatorRequest>;

  constructor(deps: CertificateLifecycleDeps, config: LifecycleConfig) {
    const log = deps.log.child({ component: 'certificates' });
    this.#deps = { ...deps, log };
    this.#config = config;
    this.#crls = new CrlPublisher({ store: deps.store, ring: deps.ring, clock: deps.clock, log }, config);
    this.#timer = new CrlTimer({ ...this.#deps, crls: this.#crls, announce: (version, kinds) => this.#announce(version, kinds) }, config);
    this.#tokens = tokenProvisioner(config, deps.clock);
    this.#renewal = renewalProvisioner(config, deps.clock);
    this.#operator = operatorProvisioner(config);
  }

  /** Starts the CRL republish timer (first check at once). Idempotent. */
  start(): Promise<void> {
    return this.#timer.start();
  }

  /** Stops the timer and waits for a check in progress. Idempotent (one memoised promise). */
  stop(): Promise<void> {
    return this.#timer.stop();
  }

  /** One CRL check now (re-read ring.json, republish what is due): the timer's tick, for tests and SIGHUP. */
  checkNow(): Promise<void> {
    return this.#timer.tick();
  }

  /** See {@link createEnrollmentToken}. */
  createEnrollmentToken(actor: Actor, agentId: string, random?: (size: number) => Uint8Array): Promise<CertOutcome<EnrollmentTokenGrant>> {
    return createEnrollmentToken(this.#deps, this.#config, actor, agentId, random);
  }

  /** See {@link createServiceEnrollmentToken}. */
  createServiceEnrollmentToken(
    actor: Actor,
    request: ServiceTokenRequest,
    random?: (size: number) => Uint8Array,
  ): Promise<CertOutcome<EnrollmentTokenGrant>> {
    return createServiceEnrollmentToken(this.#deps, this.#config, actor, request, random);
  }

  /** POST /v1/enroll: refusals are the CSR's (field `csr`) and the token provisioner's. */
  enroll(request: TokenRequest & { readonly csr: string }): Promise<CertOutcome<IssuedCertificateResponse>> {
    return this.#provision(this.#tokens, request, request.csr, { subject: 'enrollment', role: 'none' });
  }

  /** POST /v1/renew: refusals are the CSR's and the renewal provisioner's. */
  renew(request: RenewalRequest & { readonly csr: string }): Promise<CertOutcome<IssuedCertificateResponse>> {
    return this.#provision(this.#renewal, request, request.csr, { subject: 'renewal', role: 'none' });
  }

  /** POST /v1/certificates (operator issuing, e.g. a key rotation): refusals are the CSR's and the operator provisioner's. */
  issue(request: OperatorRequest & { readonly csr: string }): Promise<CertOutcome<IssuedCertificateResponse>> {
    return this.#provision(this.#operator, request, request.csr, request.actor);
  }

  /** POST /v1/certificates/{serial}/revocation: see {@link revokeInTransaction}; announces after commit. */
  async revoke(actor: Actor, serial: string, reason: unknown): Promise<CertOutcome<Revocation>> {
    const request = parseRevocationRequest(serial, reason);
    if (!request.ok) return request;
    const ports = { ring: this.#deps.ring, crls: this.#crls };
    const outcome = await this.#deps.store.transaction((tx) => revokeInTransaction(tx, ports, actor, request.value));
    if (!outcome.ok) return outcome;
    const { revoked, crls, agentsCut, configVersion, kinds } = outcome.value;
    const serials = revoked.map((record) => record.serial);
    this.#deps.log.info(
      { serials, reason: request.value.reason, crlNumbers: crls.map((crl) => crl.crlNumber), agentsCut, by: actor.subject },
      'certificate revoked',
    );
    await this.#announce(configVersion, kinds);
    return outcome;
  }

  /** POST /v1/ca/rotation: one change-over step (see {@link rotateCa}), between CRL checks; announces `crl` after commit. */
  async rotateCa(actor: Actor, request: RotationRequest): Promise<CertOutcome<RotationResult>> {
    const deps = { store: this.#deps.store, ring: this.#deps.ring, crls: this.#crls, onTrustChanged: this.#deps.onTrustChanged };
    const outcome = await this.#timer.exclusive(() => rotateCa(deps, actor, request));
    if (!outcome.ok) {
      this.#deps.log.warn({ code: outcome.code, step: request.step, caId: request.caId, by: actor.subject }, 'CA change-over step refused');
      return outcome;
    }
    const { ring, configVersion } = outcome.value;
    this.#deps.log.info({ step: request.step, caId: request.caId, cas: ring.cas, by: actor.subject }, 'CA change-over step applied');
    await this.#announce(configVersion, ['crl']);
    return outcome;
  }

  /** GET /v1/crl: the current CRL of every trusted CA of `purpose` (default agents), one PEM bundle. */
  async crlBundle(purpose: RingPurpose = 'agents'): Promise<string> {
    return (await this.#crls.bundle(purpose)).pem;
  }

  /** GET /v1/ca-certificates: the trusted CA certificates of `purpose` (default agents), one PEM bundle. */
  caBundle(purpose: RingPurpose = 'agents'): string {
    return this.#deps.ring.bundle(purpose);
  }

  /** The SHA-256 fingerprint (Node's `fingerprint256`) of the CA that signs for `purpose` now, or undefined. */
  activeCaFingerprint(purpose: RingPurpose = 'agents'): string | undefined {
    const signer = this.#deps.ring.signer(purpose);
    return signer === undefined ? undefined : new X509Certificate(signer.certificatePem).fingerprint256;
  }

  async #provision<R>(
    provisioner: Provisioner<R>,
    request: R,
    csrPem: string,
    requester: Actor,
  ): Promise<CertOutcome<IssuedCertificateResponse>> {
    const csr = await verifyCsr(csrPem);
    if (!csr.ok) return this.#refused(provisioner.type, csr);
    const outcome = await this.#deps.store.transaction(async (tx) => {
      const grant = await provisioner.authorize(tx, request, csr.value);
      if (!grant.ok) {
        tx.changes.append({
          actor: requester,
          action: `certificate.${provisioner.type}`,
          subjectKind: 'certificate',
          subjectId: null,
          outcome: 'refused',
          code: grant.code,
        });
        return grant;
      }
      const ca = this.#deps.ring.signer(grant.value.purpose);
      if (ca === undefined) throw new DmrError('DMR_CONTROL_CA_UNAVAILABLE', `the CA ring has no active ${grant.value.purpose} CA`);
      const issued = await issueInTransaction(tx, ca, grant.value, csr.value, this.#deps.clock.now());
      return { ok: true as const, value: { ...issued, purpose: grant.value.purpose } };
    });
    if (!outcome.ok) return this.#refused(provisioner.type, outcome);
    const { record, configVersion, purpose } = outcome.value;
    this.#deps.log.info(
      {
        serial: record.serial,
        subjectKind: record.subjectKind,
        subjectId: record.subjectId,
        caId: record.caId,
        notAfter: record.notAfter,
        via: provisioner.type,
      },
      'certificate issued',
    );
    await this.#announce(configVersion, ['registry']);
    return {
      ok: true,
      value: { certificate: record.pem, caCertificates: this.caBundle(purpose), serial: record.serial, notAfter: record.notAfter },
    };
  }

  #refused<T>(via: string, refusal: CertOutcome<T> & { ok: false }): CertOutcome<never> {
    this.#deps.log.warn({ code: refusal.code, field: refusal.field, via }, 'certificate request refused');
    return refusal;
  }

  async #announce(configVersion: number, kinds: readonly AnnouncementKind[]): Promise<void> {
    try {
      await this.#deps.announcer.announce({ configVersion, kinds });
    } catch (error) {
      // a hint only: servers also poll, and catch up on the next announcement
      this.#deps.log.warn({ err: error, configVersion, kinds }, 'announcement failed; servers will catch up on their poll');
    }
  }
}
