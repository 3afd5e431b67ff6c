import Type from 'typebox';

/** One failing field: its dotted path in the body (`payload.messages.0.chatId`) and what is wrong with it. */
export const FieldErrorSchema = Type.Object(
  { path: Type.String({ description: 'dotted path of the field; empty for the body as a whole' }), message: Type.String() },
  { additionalProperties: false },
);

/** The body of every error answer of the agent API (see `ErrorBody` in error-body.ts, which builds it). */
export const ErrorBodySchema = Type.Object(
  {
    statusCode: Type.Integer({ description: 'the HTTP status, repeated' }),
    code: Type.String({ pattern: '^DMR_[A-Z0-9_]+$', description: 'a code from the DMR error catalog (docs/errors.md)' }),
    message: Type.String({ description: 'for people; never branch on it' }),
    errors: Type.Optional(Type.Array(FieldErrorSchema, { description: 'every failing field (400 DMR_VALIDATION_*)' })),
    reason: Type.Optional(Type.String({ description: "the DMR server's reason (DMR_LINK_REJECTED and the server's retry-later codes)" })),
    serverCode: Type.Optional(Type.String({ description: 'the code the DMR server answered with (same cases as reason)' })),
    limitBytes: Type.Optional(Type.Integer({ minimum: 1, description: 'the body limit in force, bytes (413 DMR_VALIDATION_TOO_LARGE)' })),
  },
  { additionalProperties: false },
);

/** The 202 answer of `POST /v1/messages`. */
export const AcceptedBodySchema = Type.Object(
  { id: Type.String({ description: 'the id of the accepted message' }), status: Type.Literal('accepted') },
  { additionalProperties: false },
);

/** `GET /v1/health`. */
export const HealthBodySchema = Type.Object({ status: Type.Literal('ok') }, { additionalProperties: false });

/** `GET /v1/ready` (200 and 503 alike). */
export const ReadyBodySchema = Type.Object(
  {
    status: Type.Union([Type.Literal('ok'), Type.Literal('not_ready')]),
    checks: Type.Object(
      {
        server: Type.String({ description: 'state of the link to the DMR server (connected when ready)' }),
        agentList: Type.Union([Type.Literal('received'), Type.Literal('pending')]),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
