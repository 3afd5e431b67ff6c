// The operator's certificate routes (control/certs): issue for a CSR (a key rotation), list, read, revoke.

import { normaliseSerial } from '@dmr/shared/base';
import type { FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import type { CertificateIdentity } from '../../domain/index.js';
import type { CertificateQuery, CertificateRecord } from '../../store/index.js';
import { ApiError } from '../api-error.js';
import {
  CertificateListQuery,
  CertificateView,
  IssueBody,
  IssuedView,
  RevocationBody,
  RevocationView,
  RotationBody,
  RotationView,
  SerialParams,
} from '../certificate-schemas.js';
import { actorOf } from '../commit.js';
import { pageOrThrow, type RouteGroup } from '../route-context.js';
import { ErrorBody, pageOf } from '../schemas.js';
import { callerOf, certValueOrThrow, lifecycleOf } from './certificate-support.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody };

/** `POST/GET /v1/certificates`, `GET /v1/certificates/{serial}`, `POST /v1/certificates/{serial}/revocation`, `POST /v1/ca/rotation`. */
export const certificateAdminRoutes: RouteGroup = async (app, { context }) => {
  app.post<{ Body: Static<typeof IssueBody> }>(
    '/v1/certificates',
    {
      config: { access: 'certificates:write' },
      schema: {
        tags: ['certificates'],
        summary: 'Issue for a CSR (e.g. a key rotation); servers and the relay user need the admin role',
        body: IssueBody,
        response: { 201: IssuedView, ...errors, 404: ErrorBody, 503: ErrorBody },
      },
    },
    async (request, reply) => reply.code(201).send(certValueOrThrow(await lifecycleOf(context).issue(issueRequest(request)))),
  );
  app.get<{ Querystring: Static<typeof CertificateListQuery> }>(
    '/v1/certificates',
    {
      config: { access: 'certificates:read' },
      schema: {
        tags: ['certificates'],
        summary: 'List issued certificates with their expiry and revocation (filters combine with AND)',
        querystring: CertificateListQuery,
        response: { 200: pageOf(CertificateView), ...errors },
      },
    },
    async (request) => {
      const page = pageOrThrow(await context.store().certificates.list(certificateQuery(request.query)));
      return { items: page.items.map((record) => certificateView(record, false)), nextCursor: page.nextCursor };
    },
  );
  app.get<{ Params: Static<typeof SerialParams> }>(
    '/v1/certificates/:serial',
    {
      config: { access: 'certificates:read' },
      schema: {
        tags: ['certificates'],
        summary: 'One certificate, with its PEM',
        params: SerialParams,
        response: { 200: CertificateView, ...errors, 404: ErrorBody },
      },
    },
    async (request) => {
      const record = await context.store().certificates.get(normaliseSerial(request.params.serial));
      if (record === undefined)
        throw new ApiError('DMR_CA_NOT_ISSUED', `no certificate with serial ${request.params.serial}`, { field: 'serial' });
      return certificateView(record, true);
    },
  );
  app.post<{ Body: Static<typeof RotationBody> }>(
    '/v1/ca/rotation',
    {
      // no access name: admin only (a change-over step changes whom every server and agent trusts)
      schema: {
        tags: ['certificates'],
        summary: 'One step of a trust-anchor change-over (publish a new CA, activate it, retire the old), announced as crl',
        body: RotationBody,
        response: { 200: RotationView, ...errors, 503: ErrorBody },
      },
    },
    async (request) => certValueOrThrow(await lifecycleOf(context).rotateCa(actorOf(callerOf(request)), request.body)),
  );
  app.post<{ Params: Static<typeof SerialParams>; Body: Static<typeof RevocationBody> }>(
    '/v1/certificates/:serial/revocation',
    {
      config: { access: 'certificates:write' },
      schema: {
        tags: ['certificates'],
        summary: 'Revoke with an RFC 5280 reason: a new CRL is signed at once and announced',
        params: SerialParams,
        body: RevocationBody,
        response: { 200: RevocationView, ...errors, 404: ErrorBody, 409: ErrorBody, 503: ErrorBody },
      },
    },
    async (request) => {
      const { serial } = request.params;
      const done = certValueOrThrow(await lifecycleOf(context).revoke(actorOf(callerOf(request)), serial, request.body.reason));
      return {
        revoked: done.revoked.map((record) => ({
          serial: record.serial,
          revokedAt: record.revokedAt ?? '',
          reason: record.revocationReason ?? '',
        })),
        crls: done.crls.map((crl) => ({ caId: crl.caId, crlNumber: crl.crlNumber, nextUpdate: crl.nextUpdate })),
        agentsCut: done.agentsCut,
        configVersion: done.configVersion,
      };
    },
  );
};

function issueRequest(request: FastifyRequest<{ Body: Static<typeof IssueBody> }>) {
  const caller = callerOf(request);
  const { kind, subjectId, csr, dnsNames, ipAddresses } = request.body;
  // a server or relay-user certificate opens every agent's traffic or the broker: admin only, as their tokens
  if (kind !== 'agent' && caller.role !== 'admin') {
    throw new ApiError('DMR_CONTROL_ROLE_FORBIDDEN', `role "${caller.role}" may not issue ${kind} certificates (admin only)`, {
      field: 'kind',
    });
  }
  const identity: CertificateIdentity = { kind, id: subjectId };
  const serverNames = { dnsNames: dnsNames ?? [], ipAddresses: ipAddresses ?? [] };
  return { identity, csr, actor: actorOf(caller), ...(kind === 'server' ? { serverNames } : {}) };
}

function certificateQuery(query: Static<typeof CertificateListQuery>): CertificateQuery {
  const { limit, cursor, caId, subjectKind, subjectId, revoked, expiringBefore } = query;
  return {
    ...(limit === undefined ? {} : { limit }),
    ...(cursor === undefined ? {} : { cursor }),
    ...(caId === undefined ? {} : { caId }),
    ...(subjectKind === undefined ? {} : { subjectKind }),
    ...(subjectId === undefined ? {} : { subjectId }),
    ...(revoked === undefined ? {} : { revoked }),
    ...(expiringBefore === undefined ? {} : { expiringBefore }),
  };
}

function certificateView(record: CertificateRecord, withPem: boolean): Record<string, unknown> {
  const { pem, ...facts } = record;
  return withPem ? { ...facts, certificate: pem } : facts;
}
