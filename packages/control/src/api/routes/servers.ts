import type { Static } from 'typebox';
import Type from 'typebox';
import { ApiError } from '../api-error.js';
import { pageOrThrow, type RouteGroup } from '../route-context.js';
import { ErrorBody, pageOf, pageQuery, ServerIdParams, ServerReportBody, ServerView } from '../schemas.js';
import { serverView } from '../views.js';

const ServerListQuery = Type.Object(pageQuery, { additionalProperties: false });
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody };

/**
 * `GET /v1/servers` (who runs which configVersion) and `PUT /v1/servers/{instanceId}` (a server's report after every
 * applied sync, role `server` only). A report is no config change: it neither bumps the configVersion nor is announced
 * (a report that bumped would make every server re-sync and report again, forever), and it is not in the change log.
 */
export const serverRoutes: RouteGroup = async (app, { context }) => {
  app.get<{ Querystring: Static<typeof ServerListQuery> }>(
    '/v1/servers',
    {
      config: { access: 'servers:read' },
      schema: {
        tags: ['servers'],
        summary: 'List DMR server instances as they last reported',
        querystring: ServerListQuery,
        response: { 200: pageOf(ServerView), ...errors },
      },
    },
    async (request) => {
      const page = pageOrThrow(await context.store().servers.list(request.query));
      return { items: page.items.map(serverView), nextCursor: page.nextCursor };
    },
  );
  app.put<{ Params: Static<typeof ServerIdParams>; Body: Static<typeof ServerReportBody> }>(
    '/v1/servers/:instanceId',
    {
      config: { access: 'servers:report' },
      schema: {
        tags: ['servers'],
        summary: "A server's report: the configVersion and CRLs it runs (role server)",
        params: ServerIdParams,
        body: ServerReportBody,
        response: { 200: ServerView, ...errors },
      },
    },
    async (request) => {
      const caller = request.caller;
      if (caller === undefined) throw new ApiError('DMR_INTERNAL_ERROR', 'report without a caller');
      const { configVersion, crlNumbers, version, startedAt } = request.body;
      const record = await context.store().transaction((tx) =>
        // the name is the certificate's, never the body's: a server cannot report under another server's name
        tx.servers.report({
          instanceId: request.params.instanceId,
          name: caller.name,
          // the store keeps a number: a server without a versioned registry yet (it reports null) is at version 0
          configVersion: configVersion ?? 0,
          crlNumbers,
          softwareVersion: version,
          startedAt,
        }),
      );
      return serverView(record);
    },
  );
};
