import type { Logger } from '@dmr/shared';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import type { CertificateLifecycle } from '../enroll/index.js';
import type { ControlStore, PageOutcome } from '../store/index.js';
import { ApiError } from './api-error.js';
import type { Announce, WriteContext } from './commit.js';

/** What dmr-control reports at /v1/ready. */
export interface ReadinessReport {
  readonly isReady: boolean;
  readonly checks: Readonly<Record<string, string>>;
}

/** What every route group gets: the store, the announcer, readiness, metrics and the logger. */
export interface RouteContext {
  /** The open store; throws DMR_CONTROL_STORE_FAILED (503) before start and after stop. */
  readonly store: () => ControlStore;
  readonly announce: Announce;
  readonly readiness: () => Promise<ReadinessReport>;
  readonly metricsRegistry: Registry;
  readonly log: Logger;
  /** The certificate lifecycle (control/certs) once started; undefined without a CA (`DMR_CONTROL_CA_DIR` unset) or before start. */
  readonly certificates?: () => CertificateLifecycle | undefined;
}

/**
 * One group of routes: a fastify plugin registered with `{context}`. Each route says who may call it in
 * `config.access` (domain/roles.ts); the caller guard enforces it. The groups are listed in routes/index.ts.
 */
export type RouteGroup = FastifyPluginAsync<{ readonly context: RouteContext }>;

/** The write context of an authenticated request. */
export function writeContextOf(context: RouteContext, request: FastifyRequest): WriteContext {
  if (request.caller === undefined) throw new ApiError('DMR_INTERNAL_ERROR', 'a write route ran without an authenticated caller');
  return { store: context.store(), announce: context.announce, caller: request.caller };
}

/** The page of a store list, or 400 DMR_CONTROL_CURSOR_INVALID naming `cursor`. */
export function pageOrThrow<T>(outcome: PageOutcome<T>): { readonly items: readonly T[]; readonly nextCursor: string | null } {
  if (!outcome.ok) throw new ApiError(outcome.code, outcome.message, { field: 'cursor' });
  return outcome.value;
}

/** Every item of a paged list, fetching pages of 1000 (export, the CentOps view, import diffs). */
export async function listAll<T>(fetchPage: (cursor: string | undefined) => Promise<PageOutcome<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = pageOrThrow(await fetchPage(cursor));
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return items;
}
