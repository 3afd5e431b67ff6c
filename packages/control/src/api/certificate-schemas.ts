// The certificate routes' wire contract (control/certs) as JSON Schema (TypeBox): enrollment tokens, enrollment,
// renewal, operator issuing, the certificate list, revocation. Every object refuses unknown members.

import { AgentId } from '@dmr/shared';
import Type from 'typebox';
import { MAX_CSR_PEM_LENGTH } from '../ca/index.js';
import { API_REVOCATION_REASONS, CA_ID_PATTERN } from '../domain/index.js';
import { pageQuery } from './schemas.js';

const CLOSED = { additionalProperties: false } as const;

const Csr = Type.String({
  minLength: 1,
  maxLength: MAX_CSR_PEM_LENGTH,
  description: 'PEM PKCS#10 request signed by the requester’s own key: RSA 2048–8192 bits or EC P-256',
});
const Pem = Type.String({ description: 'PEM' });
const Serial = Type.String({ pattern: '^[0-9A-Fa-f:]{2,64}$', description: 'certificate serial, hex (any of 3F2A…, 3f:2a:…)' });
// the alphabets only (a refusal names `dnsNames.<i>`); the CA library checks each name's full syntax
const DnsNames = Type.Array(Type.String({ pattern: '^[A-Za-z0-9*_][A-Za-z0-9*_.-]{0,252}$' }), { maxItems: 32, uniqueItems: true });
const IpAddresses = Type.Array(Type.String({ pattern: '^[0-9A-Fa-f:.]{2,45}$' }), { maxItems: 32, uniqueItems: true });
/** An agent id, server name or RabbitMQ user: the union of their grammars. */
const SubjectId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,252}$' });
const ServerName = Type.String({ minLength: 1, maxLength: 253, description: 'server instance name (DNS-style)' });
const Purpose = Type.Union([Type.Literal('agents'), Type.Literal('broker')], {
  description: 'agents (default): the CAs of agent and server certificates; broker: the CAs RabbitMQ trusts',
});

/** `201` of a token creation: the token is shown once (`Cache-Control: no-store`). */
export const EnrollmentTokenView = Type.Object(
  {
    token: Type.String({ description: '256 random bits, base64url: give it to the agent; it is stored only as its SHA-256' }),
    expiresAt: Type.String({ format: 'date-time' }),
  },
  CLOSED,
);

/** `POST /v1/servers/{name}/enrollment-tokens`: a server instance's token (default) or the relay user's. */
export const ServiceTokenBody = Type.Object(
  {
    kind: Type.Optional(Type.Union([Type.Literal('server'), Type.Literal('relay-user')], { default: 'server' })),
    dnsNames: Type.Optional(DnsNames),
    ipAddresses: Type.Optional(IpAddresses),
    user: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'relay-user only: the RabbitMQ user (default dmr-relay)' }),
    ),
  },
  CLOSED,
);

/** `/v1/servers/{name}/…` path parameters. */
export const ServerNameParams = Type.Object({ name: ServerName }, CLOSED);

/** `/v1/agents/{id}/…` path parameters. */
export const AgentIdOnlyParams = Type.Object({ id: AgentId }, CLOSED);

/** `POST /v1/enroll`. */
export const EnrollBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 256, description: 'the one-time enrollment token' }), csr: Csr },
  CLOSED,
);

/** `POST /v1/renew`. */
export const RenewBody = Type.Object(
  {
    csr: Csr,
    certificate: Type.Optional(
      Type.String({
        maxLength: 16_384,
        description: 'servers only: the relay user’s current certificate (PEM), to renew it for the same key',
      }),
    ),
  },
  CLOSED,
);

/** `201` of enrollment, renewal and operator issuing. */
export const IssuedView = Type.Object(
  {
    certificate: Pem,
    caCertificates: Type.String({
      description: 'PEM bundle of the CAs to trust for this certificate’s purpose (old and new during a change-over)',
    }),
    serial: Type.String(),
    notAfter: Type.String({ format: 'date-time' }),
  },
  CLOSED,
);

/** `POST /v1/certificates`: an operator issues for a CSR (a key rotation). */
export const IssueBody = Type.Object(
  {
    kind: Type.Union([Type.Literal('agent'), Type.Literal('server'), Type.Literal('relay-user')]),
    subjectId: Type.String({ ...SubjectId, description: 'agent id, server name or RabbitMQ user' }),
    csr: Csr,
    dnsNames: Type.Optional(DnsNames),
    ipAddresses: Type.Optional(IpAddresses),
  },
  CLOSED,
);

/** A certificate as the admin API lists it. */
export const CertificateView = Type.Object(
  {
    serial: Type.String(),
    caId: Type.String(),
    subjectKind: Type.String(),
    subjectId: Type.String(),
    notBefore: Type.String({ format: 'date-time' }),
    notAfter: Type.String({ format: 'date-time' }),
    issuedAt: Type.String({ format: 'date-time' }),
    publicKeySha256: Type.String(),
    revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    revocationReason: Type.Union([Type.String(), Type.Null()]),
    certificate: Type.Optional(Pem),
  },
  CLOSED,
);

/** `GET /v1/certificates` filters. */
export const CertificateListQuery = Type.Object(
  {
    ...pageQuery,
    caId: Type.Optional(Type.String({ pattern: CA_ID_PATTERN.source })),
    subjectKind: Type.Optional(
      Type.Union([Type.Literal('agent'), Type.Literal('server'), Type.Literal('admin'), Type.Literal('relay-user')]),
    ),
    subjectId: Type.Optional(SubjectId),
    revoked: Type.Optional(Type.Boolean()),
    expiringBefore: Type.Optional(Type.String({ format: 'date-time' })),
  },
  CLOSED,
);

/** `/v1/certificates/{serial}` path parameters. */
export const SerialParams = Type.Object({ serial: Serial }, CLOSED);

/** `POST /v1/certificates/{serial}/revocation`. */
export const RevocationBody = Type.Object(
  {
    reason: Type.Union(
      API_REVOCATION_REASONS.map((name) => Type.Literal(name)),
      { description: 'RFC 5280 CRLReason (certificateHold is not offered)' },
    ),
  },
  CLOSED,
);

/** `200` of a revocation. */
export const RevocationView = Type.Object(
  {
    revoked: Type.Array(
      Type.Object({ serial: Type.String(), revokedAt: Type.String({ format: 'date-time' }), reason: Type.String() }, CLOSED),
    ),
    crls: Type.Array(
      Type.Object({ caId: Type.String(), crlNumber: Type.Integer(), nextUpdate: Type.String({ format: 'date-time' }) }, CLOSED),
    ),
    agentsCut: Type.Array(Type.String(), {
      description: 'agents whose current certificate this was: out of the registry until they enroll again',
    }),
    configVersion: Type.Integer(),
  },
  CLOSED,
);

/** `?purpose=` of the CRL and CA bundles. */
export const PurposeQuery = Type.Object({ purpose: Type.Optional(Purpose) }, CLOSED);

const CaId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$', description: 'the CA’s id in ring.json (its directory name)' });
const RingEntryView = Type.Object(
  {
    id: Type.String(),
    purpose: Purpose,
    status: Type.Union([Type.Literal('active'), Type.Literal('published'), Type.Literal('retired')]),
  },
  CLOSED,
);

/** `POST /v1/ca/rotation`: one step of a trust-anchor change-over. */
export const RotationBody = Type.Object(
  {
    step: Type.Union([Type.Literal('publish'), Type.Literal('activate'), Type.Literal('retire')], {
      description:
        'publish: create CA caId beside the signing one (trusted, not signing); activate: caId signs from now on (the previous one stays trusted); retire: caId (published, not signing) is trusted no more',
    }),
    caId: CaId,
    purpose: Type.Optional(Purpose),
    commonName: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'publish: the new CA’s CN' })),
    keyType: Type.Optional(
      Type.Union([Type.Literal('ec-p256'), Type.Literal('rsa-3072')], { description: 'publish: the new CA’s key type' }),
    ),
    validityDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 7300, description: 'publish: the new CA’s validity, days' })),
  },
  CLOSED,
);

/** `200` of a change-over step: the ring after it and the version it was announced with. */
export const RotationView = Type.Object(
  {
    step: Type.String(),
    caId: Type.String(),
    ring: Type.Object({ version: Type.Literal(1), cas: Type.Array(RingEntryView) }, CLOSED),
    configVersion: Type.Integer({ minimum: 0 }),
  },
  CLOSED,
);
