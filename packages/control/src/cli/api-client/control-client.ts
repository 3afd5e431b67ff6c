// The admin API of dmr-control, one method per route that dmrctl uses (docs/control-plane.md). Records are passed
// through as the API sends them: dmrctl prints them (tables pick the fields they know, JSON keeps everything).
import { DmrError } from '@dmr/shared/base';
import { excerpt } from './api-error.js';
import type { ApiRequest, ApiResponse, ApiTransport } from './transport.js';

/** A record of the API (agent, certificate, policy version, server, change), as JSON. */
export type ApiRecord = Readonly<Record<string, unknown>>;

/** A record and the `ETag` it came with (`"<revision>"`). */
export interface Tagged<T> {
  readonly value: T;
  readonly etag: string;
}

/** How many items a list fetches and what it reports after each page (for progress on stderr). */
export interface ListOptions {
  readonly query?: ApiRequest['query'];
  /** Stop once this many items were fetched (default: all of them). */
  readonly limit?: number;
  readonly onPage?: (fetched: number) => void;
}

/** The API's page size when dmrctl follows cursors (the API's maximum). */
export const PAGE_SIZE = 1000;

/** The ETag of a revision, as the API writes it and `If-Match` expects it. */
export function etagOf(revision: number): string {
  return `"${revision}"`;
}

/** The admin API client. `close()` ends the kept-alive connections. */
export interface ControlClient {
  get(path: string, query?: ApiRequest['query']): Promise<ApiRecord>;
  getTagged(path: string): Promise<Tagged<ApiRecord>>;
  list(path: string, options?: ListOptions): Promise<ApiRecord[]>;
  post(path: string, body: unknown, options?: Pick<ApiRequest, 'query' | 'timeoutMs'>): Promise<ApiRecord>;
  patch(path: string, body: unknown, etag: string): Promise<Tagged<ApiRecord>>;
  delete(path: string, etag: string): Promise<void>;
  close(): void;
}

/** Builds the client over a transport (real HTTPS in dmrctl; tests may pass their own). */
export function createControlClient(transport: ApiTransport): ControlClient {
  const call = async (request: ApiRequest) => transport.send(request);
  return {
    get: async (path, query) => recordOf(await call({ method: 'GET', path, ...(query === undefined ? {} : { query }) })),
    getTagged: async (path) => tagged(await call({ method: 'GET', path })),
    list: (path, options) => listAll(call, path, options),
    post: async (path, body, options) => recordOf(await call({ method: 'POST', path, body, ...options })),
    patch: async (path, body, etag) => tagged(await call({ method: 'PATCH', path, body, headers: { 'if-match': etag } })),
    delete: async (path, etag) => {
      await call({ method: 'DELETE', path, headers: { 'if-match': etag } });
    },
    close: () => transport.close(),
  };
}

/** Follows `nextCursor` until the list ends or `limit` items were fetched. */
async function listAll(call: (request: ApiRequest) => Promise<ApiResponse>, path: string, options: ListOptions = {}): Promise<ApiRecord[]> {
  const items: ApiRecord[] = [];
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  let cursor: string | undefined;
  do {
    const pageSize = Math.min(PAGE_SIZE, limit - items.length);
    const response = await call({ method: 'GET', path, query: { ...options.query, limit: pageSize, cursor } });
    const page = pageOf(response);
    items.push(...page.items.slice(0, limit - items.length));
    options.onPage?.(items.length);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && items.length < limit);
  return items;
}

function pageOf(response: ApiResponse): { items: ApiRecord[]; nextCursor: string | null } {
  const body = recordOf(response);
  const isPage =
    Array.isArray(body.items) &&
    body.items.every(isRecord) &&
    (body.nextCursor === undefined || body.nextCursor === null || typeof body.nextCursor === 'string');
  if (!isPage) throw invalidBody(response, 'a page {items, nextCursor}');
  return { items: body.items as ApiRecord[], nextCursor: (body.nextCursor as string | null | undefined) ?? null };
}

function tagged(response: ApiResponse): Tagged<ApiRecord> {
  const value = recordOf(response);
  const header = response.headers.etag;
  const etag = typeof header === 'string' ? header : typeof value.revision === 'number' ? etagOf(value.revision) : undefined;
  if (etag === undefined) throw invalidBody(response, 'an ETag header');
  return { value, etag };
}

/** The JSON object of a 2xx answer (`{}` for 204). Throws DMR_CLI_API_RESPONSE_INVALID for anything else. */
export function recordOf(response: ApiResponse): ApiRecord {
  if (response.statusCode === 204 || response.text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(response.text);
  } catch {
    throw invalidBody(response, 'JSON');
  }
  if (!isRecord(value)) throw invalidBody(response, 'a JSON object');
  return value;
}

function isRecord(value: unknown): value is ApiRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalidBody(response: ApiResponse, expected: string): DmrError {
  return new DmrError('DMR_CLI_API_RESPONSE_INVALID', `expected ${expected}, got HTTP ${response.statusCode}: ${excerpt(response.text)}`);
}
