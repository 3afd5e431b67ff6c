import type { RouteGroup } from '../route-context.js';

/** `GET /v1/openapi.json`: the OpenAPI 3.1 description generated from the route schemas (committed as packages/control/openapi.json). */
export const openApiRoutes: RouteGroup = async (app) => {
  app.get(
    '/v1/openapi.json',
    {
      config: { access: 'public' },
      schema: { tags: ['ops'], summary: 'This document', response: { 200: { type: 'object', additionalProperties: true } } },
    },
    async (_request, reply) => reply.type('application/json; charset=utf-8').send(JSON.stringify(app.swagger())),
  );
};
