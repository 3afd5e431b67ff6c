import type { Static } from 'typebox';
import { pageOrThrow, type RouteGroup } from '../route-context.js';
import { ChangeListQuery, ChangeView, ConfigVersionBody, ErrorBody, pageOf } from '../schemas.js';
import { changeView } from '../views.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody };

/** `GET /v1/changes` (the append-only change log, read only; auditor and admin) and `GET /v1/config-version` (any role). */
export const changeLogRoutes: RouteGroup = async (app, { context }) => {
  app.get<{ Querystring: Static<typeof ChangeListQuery> }>(
    '/v1/changes',
    {
      config: { access: 'changes:read' },
      schema: {
        tags: ['changes'],
        summary: 'The change log, oldest first: who changed what (hashes of before and after), and refused requests',
        querystring: ChangeListQuery,
        response: { 200: pageOf(ChangeView), ...errors },
      },
    },
    async (request) => {
      const page = pageOrThrow(await context.store().changes.list(request.query));
      return { items: page.items.map(changeView), nextCursor: page.nextCursor };
    },
  );
  app.get(
    '/v1/config-version',
    {
      config: { access: 'config-version:read' },
      schema: {
        tags: ['changes'],
        summary: 'The current configVersion',
        response: { 200: ConfigVersionBody, 401: ErrorBody, 403: ErrorBody },
      },
    },
    async () => ({ configVersion: await context.store().configVersion() }),
  );
};
