// The certificate routes (control/certs): enrollment tokens, enrollment, renewal, operator issuing, the certificate
// list, revocation, and the CRL and CA bundles. The logic lives in enroll/ (CertificateLifecycle); this file maps
// HTTP to it and its refusals to `{statusCode, code, message, field?}`.

import { TLSSocket } from 'node:tls';
import { DEFAULT_RELAY_USER } from '@dmr/shared/base';
import { ACTIVE_CA_HEADER } from '@dmr/shared/certs';
import { x509 } from '@dmr/shared/pki';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import { ApiError } from '../api-error.js';
import {
  AgentIdOnlyParams,
  EnrollBody,
  EnrollmentTokenView,
  IssuedView,
  PurposeQuery,
  RenewBody,
  ServerNameParams,
  ServiceTokenBody,
} from '../certificate-schemas.js';
import { actorOf } from '../commit.js';
import type { RouteContext, RouteGroup } from '../route-context.js';
import { ErrorBody } from '../schemas.js';
import { certificateAdminRoutes } from './certificate-admin.js';
import { callerOf, certValueOrThrow, lifecycleOf } from './certificate-support.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 503: ErrorBody };
const PEM_TYPE = 'application/x-pem-file; charset=utf-8';

/** `POST …/enrollment-tokens`, `POST /v1/enroll`, `POST /v1/renew`, `GET /v1/crl`, `GET /v1/ca-certificates`, and the admin routes. */
export const certificateRoutes: RouteGroup = async (app, { context }) => {
  app.post<{ Params: Static<typeof AgentIdOnlyParams> }>(
    '/v1/agents/:id/enrollment-tokens',
    {
      config: { access: 'certificates:write' },
      schema: {
        tags: ['certificates'],
        summary: 'A one-time enrollment token for an agent (shown once, stored hashed)',
        params: AgentIdOnlyParams,
        response: { 201: EnrollmentTokenView, ...errors, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const grant = certValueOrThrow(await lifecycleOf(context).createEnrollmentToken(actorOf(callerOf(request)), request.params.id));
      return reply.code(201).header('cache-control', 'no-store').send(grant);
    },
  );
  app.post<{ Params: Static<typeof ServerNameParams>; Body: Static<typeof ServiceTokenBody> }>(
    '/v1/servers/:name/enrollment-tokens',
    {
      config: { access: 'certificates:servers' },
      schema: {
        tags: ['certificates'],
        summary: 'A one-time enrollment token for a server instance (its names fixed now) or for the relay user',
        params: ServerNameParams,
        body: ServiceTokenBody,
        response: { 201: EnrollmentTokenView, ...errors },
      },
    },
    async (request, reply) => serviceToken(context, request, reply),
  );
  app.post<{ Body: Static<typeof EnrollBody> }>(
    '/v1/enroll',
    {
      config: { access: 'public' },
      schema: {
        tags: ['certificates'],
        summary: 'Enroll with a one-time token and a CSR: the certificate for the key the requester holds',
        body: EnrollBody,
        response: { 201: IssuedView, ...errors, 409: ErrorBody },
      },
    },
    async (request, reply) => reply.code(201).send(certValueOrThrow(await lifecycleOf(context).enroll(request.body))),
  );
  app.post<{ Body: Static<typeof RenewBody> }>(
    '/v1/renew',
    {
      config: { access: 'certificates:renew' },
      schema: {
        tags: ['certificates'],
        summary: 'Renew the caller’s own certificate (mTLS) for the same identity and key pair',
        body: RenewBody,
        response: { 201: IssuedView, ...errors, 409: ErrorBody },
      },
    },
    async (request, reply) => reply.code(201).send(certValueOrThrow(await lifecycleOf(context).renew(renewalRequest(request)))),
  );
  app.get<{ Querystring: Static<typeof PurposeQuery> }>(
    '/v1/crl',
    {
      config: { access: 'public' },
      schema: {
        tags: ['certificates'],
        summary: 'The current CRL of every trusted CA (PEM bundle, label X509 CRL)',
        querystring: PurposeQuery,
        response: { 200: { type: 'string', description: 'PEM bundle' }, 503: ErrorBody },
      },
    },
    async (request, reply) =>
      reply
        .type(PEM_TYPE)
        .header('cache-control', 'no-cache')
        .send(await lifecycleOf(context).crlBundle(request.query.purpose)),
  );
  app.get<{ Querystring: Static<typeof PurposeQuery> }>(
    '/v1/ca-certificates',
    {
      config: { access: 'public' },
      schema: {
        tags: ['certificates'],
        summary:
          'The trusted CA certificates (PEM bundle; old and new during a change-over); header X-DMR-Active-CA: the SHA-256 fingerprint of the signing CA',
        querystring: PurposeQuery,
        response: { 200: { type: 'string', description: 'PEM bundle' }, 503: ErrorBody },
      },
    },
    async (request, reply) => {
      const lifecycle = lifecycleOf(context);
      const active = lifecycle.activeCaFingerprint(request.query.purpose);
      // which CA signs now: clients renew onto it once it changed (the change-over's second step)
      if (active !== undefined) reply.header(ACTIVE_CA_HEADER, active);
      return reply.type(PEM_TYPE).header('cache-control', 'no-cache').send(lifecycle.caBundle(request.query.purpose));
    },
  );
  await certificateAdminRoutes(app, { context });
};

async function serviceToken(
  context: RouteContext,
  request: FastifyRequest<{ Params: Static<typeof ServerNameParams>; Body: Static<typeof ServiceTokenBody> }>,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const { kind = 'server', dnsNames, ipAddresses, user } = request.body;
  if (kind === 'server' && user !== undefined)
    throw new ApiError('DMR_CONTROL_INVALID_INPUT', 'user is for kind relay-user only', { field: 'user' });
  const id = kind === 'server' ? request.params.name : (user ?? DEFAULT_RELAY_USER);
  const serviceRequest = { kind, id, ...(dnsNames ? { dnsNames } : {}), ...(ipAddresses ? { ipAddresses } : {}) };
  const grant = certValueOrThrow(await lifecycleOf(context).createServiceEnrollmentToken(actorOf(callerOf(request)), serviceRequest));
  return reply.code(201).header('cache-control', 'no-store').send(grant);
}

/**
 * What renews: the certificate the TLS handshake verified (its DER, so a certificate of another trusted issuer with a
 * copied serial cannot pose as one of ours), for the caller's own kind; or, for a server, the relay user's
 * certificate given in the body (the CSR must then be signed by the relay user's key).
 */
function renewalRequest(request: FastifyRequest<{ Body: Static<typeof RenewBody> }>) {
  const caller = callerOf(request);
  const { csr, certificate } = request.body;
  if (certificate !== undefined) {
    if (caller.role !== 'server')
      throw new ApiError('DMR_CONTROL_ROLE_FORBIDDEN', 'only a server renews the relay user’s certificate', { field: 'certificate' });
    return { csr, certificateDer: derOf(certificate), allowedKinds: ['relay-user'] };
  }
  const socket = request.raw.socket;
  const peer = socket instanceof TLSSocket ? socket.getPeerX509Certificate() : undefined;
  if (peer === undefined)
    throw new ApiError('DMR_CONTROL_CERTIFICATE_REQUIRED', 'renewal needs the client certificate of the TLS connection');
  return { csr, certificateDer: new Uint8Array(peer.raw), allowedKinds: [caller.role] };
}

function derOf(pem: string): Uint8Array {
  try {
    return new Uint8Array(new x509.X509Certificate(pem).rawData);
  } catch {
    throw new ApiError('DMR_CONTROL_INVALID_INPUT', 'certificate is not a PEM certificate', { field: 'certificate' });
  }
}
