/** The only routes the ops listener serves: liveness, readiness and Prometheus metrics. */
export const OPS_ROUTES = ['/v1/health', '/v1/ready', '/metrics'] as const;

/** One of {@link OPS_ROUTES}. */
export type OpsRoute = (typeof OPS_ROUTES)[number];

/** What the ops listener does with one request. */
export type OpsRequestMatch = { readonly ok: true; readonly route: OpsRoute; readonly isHead: boolean } | { readonly ok: false };

/**
 * Pure rule of the ops listener: `GET` or `HEAD` of exactly one of {@link OPS_ROUTES} (a query string is ignored);
 * every other method or path is not served (404 `DMR_OPS_ROUTE_NOT_FOUND`), so no message route is ever reachable.
 */
export function matchOpsRequest(method: string | undefined, url: string | undefined): OpsRequestMatch {
  if (method !== 'GET' && method !== 'HEAD') return { ok: false };
  const path = (url ?? '').split('?', 1)[0];
  const route = OPS_ROUTES.find((candidate) => candidate === path);
  return route ? { ok: true, route, isHead: method === 'HEAD' } : { ok: false };
}
