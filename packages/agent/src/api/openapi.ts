import { type DmrErrorCode, ERROR_CATALOG, V1Chat, V1ChatEntry, V1MessageBody, V1Payload } from '@dmr/shared';
import type { TSchema } from 'typebox';
import { AcceptedBodySchema, ErrorBodySchema, FieldErrorSchema, HealthBodySchema, ReadyBodySchema } from './response-schemas.js';

/** A JSON document (the OpenAPI description), as served and as committed. */
export type JsonObject = { readonly [key: string]: unknown };

/** The document's own version: bumped when the API contract changes, not with every release of the agent. */
export const OPENAPI_DOCUMENT_VERSION = '1.2.0';

/** Every code `POST /v1/messages` answers with; the document groups them by the catalog's HTTP status. */
export const MESSAGE_ROUTE_CODES = [
  'DMR_VALIDATION_FAILED',
  'DMR_VALIDATION_UNKNOWN_RECIPIENT',
  'DMR_ROUTE_RECIPIENT_DISABLED',
  'DMR_VALIDATION_TOO_LARGE',
  'DMR_INTERNAL_ERROR',
  'DMR_CRYPTO_PEER_KEY_UNTRUSTED',
  'DMR_LINK_NOT_CONNECTED',
  'DMR_LINK_REJECTED',
  'DMR_LINK_BACKPRESSURE',
  'DMR_ROUTE_AGENT_BUSY',
  'DMR_ROUTE_QUEUE_FULL',
  'DMR_POLICY_DENIED',
  'DMR_POLICY_UNAVAILABLE',
  'DMR_LIFECYCLE_SHUTTING_DOWN',
  'DMR_LINK_TIMEOUT',
] as const satisfies readonly DmrErrorCode[];

/** What each error status of `POST /v1/messages` means for the caller. */
const STATUS_MEANINGS: Readonly<Record<number, string>> = {
  400:
    'The message is refused and nothing was sent: the body is not JSON or not the v1 schema (every failing field in `errors`, ' +
    'as a dotted path; `id`, `recipientId`, `payload.chat.id`, `payload.messages[].id` and `payload.messages[].chatId` must be UUIDs), ' +
    'or the recipient is not a known agent. Fix the request; retrying it unchanged cannot succeed.',
  403:
    "The DMR server's policy denies this sender sending to this recipient (`DMR_POLICY_DENIED`); nothing was queued. `reason` " +
    '(and `serverCode`) name the deciding rule and the policy version (docs/policy.md). Retrying unchanged cannot succeed until ' +
    'the policy changes.',
  413:
    'The body exceeds `DMR_MAX_MESSAGE_BYTES` (`limitBytes`); nothing was sent. Answered as soon as the agent knows (at once from ' +
    '`Content-Length`, after the limit for a chunked body) with `Connection: close`; the agent reads and discards up to 64 MiB or 10 s ' +
    'more of the body, then closes the connection, so a client that sends its whole body still reads this answer.',
  500: 'An unexpected internal error (a bug); the message may or may not have been sent: retry with the same id.',
  502:
    'The message did not reach the relay, or the relay refused it: no live connection to a DMR server (`DMR_LINK_NOT_CONNECTED`, ' +
    'retry later), a refusal by the server (`DMR_LINK_REJECTED` with its `reason` and `serverCode`), or a recipient whose key is not ' +
    'a certificate from the DMR CA naming it (`DMR_CRYPTO_PEER_KEY_UNTRUSTED`, nothing was sent).',
  503:
    'Nothing was sent; retry after `Retry-After` seconds with the same id: the agent has its maximum of sends in flight or its event ' +
    'loop runs late (`DMR_LINK_BACKPRESSURE`), the server has this agent at its in-flight cap or the recipient queue is full ' +
    '(`DMR_ROUTE_AGENT_BUSY`, `DMR_ROUTE_QUEUE_FULL`, with the server `reason` and `serverCode`), the server policy engine could ' +
    'not decide and the server refused the message (`DMR_POLICY_UNAVAILABLE`, fail closed), or the agent is shutting down.',
  504:
    'The DMR server did not confirm the message within `MESSAGE_DELIVERY_TIMEOUT_MS`. It may still have been queued: retry with the ' +
    'same id (the recipient agent suppresses duplicates by id).',
};

/** Schemas the document names under `components.schemas`; anywhere else they appear, they become a `$ref`. */
const COMPONENTS: Readonly<Record<string, TSchema>> = {
  V1MessageBody,
  V1Payload,
  V1Chat,
  V1ChatEntry,
  AcceptedBody: AcceptedBodySchema,
  ErrorBody: ErrorBodySchema,
  FieldError: FieldErrorSchema,
  HealthBody: HealthBodySchema,
  ReadyBody: ReadyBodySchema,
};

/**
 * The OpenAPI 3.1 description of the agent's HTTP API, generated from the schemas that validate and build its
 * messages (the shared v1 schema the sender checks bodies with, the response schemas, the error catalog's statuses),
 * so it cannot drift from them. Served at `GET /v1/openapi.json`; `npm run openapi` writes it to
 * packages/agent/openapi.json, and a test keeps the two equal.
 */
export function buildOpenApiDocument(): JsonObject {
  return {
    openapi: '3.1.0',
    info: {
      title: 'DMR agent API',
      version: OPENAPI_DOCUMENT_VERSION,
      summary: "One institution's DMR agent: hands chat messages to another institution's agent, end-to-end encrypted.",
      description:
        'The HTTP API a dmr-agent offers local services (seed 003 compatible). Every error answer is an `ErrorBody` whose `code` ' +
        'is in the DMR error catalog (docs/errors.md). Generated from the schemas the agent validates with; do not edit by hand.',
    },
    paths: {
      '/v1/messages': { post: sendMessageOperation() },
      '/v1/health': { get: jsonGet('health', 'Liveness: 200 while the process runs.', { 200: ['alive', 'HealthBody'] }) },
      '/v1/ready': {
        get: jsonGet('ready', 'Readiness: 200 when connected to a DMR server and its full agent list arrived, else 503.', {
          200: ['ready', 'ReadyBody'],
          503: ['not ready', 'ReadyBody'],
        }),
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          summary: 'Prometheus metrics (text exposition format).',
          responses: { 200: { description: 'the metrics', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
      '/v1/openapi.json': {
        get: {
          operationId: 'openapi',
          summary: 'This document.',
          responses: {
            200: {
              description: 'the OpenAPI 3.1 description of this API',
              content: { 'application/json': { schema: { type: 'object' } } },
            },
          },
        },
      },
    },
    components: {
      schemas: Object.fromEntries(Object.entries(COMPONENTS).map(([name, schema]) => [name, withRefs(schema, schema)])),
      headers: {
        RetryAfter: { description: 'seconds to wait before retrying with the same id', schema: { type: 'integer', minimum: 1 } },
      },
    },
  };
}

function sendMessageOperation(): JsonObject {
  return {
    operationId: 'sendMessage',
    summary: 'Send a v1 ChatMessage to another agent (seed 003 "Sending messages").',
    description:
      'Validates the body, signs and encrypts its payload to the recipient, and answers 202 only after the DMR server confirmed the ' +
      'message durable (RabbitMQ publisher confirm). Retries must reuse the id: the recipient delivers each id once.',
    requestBody: { required: true, content: { 'application/json': { schema: ref('V1MessageBody') } } },
    responses: {
      202: {
        description: 'Accepted: the message is durably queued for the recipient.',
        content: { 'application/json': { schema: ref('AcceptedBody') } },
      },
      ...errorResponses(),
    },
  };
}

/** One response per HTTP status that {@link MESSAGE_ROUTE_CODES} map to in the catalog, each listing its codes. */
function errorResponses(): Record<string, JsonObject> {
  const byStatus = new Map<number, DmrErrorCode[]>();
  for (const code of MESSAGE_ROUTE_CODES) {
    const status = ERROR_CATALOG[code].httpStatus;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, JsonObject> = {};
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const hasRetryAfter = status === 503;
    responses[String(status)] = {
      description: STATUS_MEANINGS[status] ?? codes.map((code) => ERROR_CATALOG[code].summary).join(' '),
      ...(hasRetryAfter ? { headers: { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } } } : {}),
      content: { 'application/json': { schema: errorWith(status, { enum: codes }) } },
    };
  }
  return responses;
}

/** `ErrorBody` with `code` narrowed to `codeSchema` and `statusCode` to `status`. */
function errorWith(status: number, codeSchema: JsonObject): JsonObject {
  return { allOf: [ref('ErrorBody'), { type: 'object', properties: { statusCode: { const: status }, code: codeSchema } }] };
}

function jsonGet(operationId: string, summary: string, answers: Record<number, readonly [string, string]>): JsonObject {
  const responses = Object.fromEntries(
    Object.entries(answers).map(([status, [description, schema]]) => [
      status,
      { description, content: { 'application/json': { schema: ref(schema) } } },
    ]),
  );
  return { operationId, summary, responses };
}

function ref(name: string): JsonObject {
  return { $ref: `#/components/schemas/${name}` };
}

/** A plain JSON copy of `schema` in which every named component other than `self` is replaced by its `$ref`. */
function withRefs(schema: unknown, self?: unknown): unknown {
  if (schema !== self) {
    const name = Object.entries(COMPONENTS).find(([, component]) => component === schema)?.[0];
    if (name !== undefined) return ref(name);
  }
  if (Array.isArray(schema)) return schema.map((item) => withRefs(item));
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, withRefs(value)]));
}
