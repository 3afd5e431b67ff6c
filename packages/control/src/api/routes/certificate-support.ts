// What the certificate routes share: the lifecycle (or 503 without a CA), refusals as ApiErrors, the caller.

import type { FastifyRequest } from 'fastify';
import type { CertOutcome } from '../../domain/index.js';
import type { CertificateLifecycle } from '../../enroll/index.js';
import { ApiError } from '../api-error.js';
import type { RouteContext } from '../route-context.js';

/** The lifecycle, or 503 DMR_CONTROL_CA_UNAVAILABLE when this control plane runs without a CA. */
export function lifecycleOf(context: RouteContext): CertificateLifecycle {
  const lifecycle = context.certificates?.();
  if (lifecycle === undefined)
    throw new ApiError('DMR_CONTROL_CA_UNAVAILABLE', 'this control plane has no CA (DMR_CONTROL_CA_DIR is not set)');
  return lifecycle;
}

/** The value of a lifecycle outcome, or throws its refusal as an {@link ApiError} naming the field. */
export function certValueOrThrow<T>(outcome: CertOutcome<T>): T {
  if (!outcome.ok) throw new ApiError(outcome.code, outcome.message, outcome.field === undefined ? {} : { field: outcome.field });
  return outcome.value;
}

/** The authenticated caller of a guarded route. */
export function callerOf(request: FastifyRequest): NonNullable<FastifyRequest['caller']> {
  if (request.caller === undefined) throw new ApiError('DMR_INTERNAL_ERROR', 'a guarded route ran without an authenticated caller');
  return request.caller;
}
