import Type, { type Static } from 'typebox'

/**
 * Every request and response shape of the API. The OpenAPI document is generated from these.
 * Bodies refuse unknown members, so a misspelt option fails loudly instead of being ignored.
 */
const Uuid = Type.String({
  pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
  description: 'A user id (UUID).',
})
const EpochSeconds = Type.Integer({ description: 'Seconds since the Unix epoch.' })
const Timestamp = Type.String({ format: 'date-time' })
// Token-shaped inputs are bounded but not shape-checked here: the codec decides, so a wrong
// token answers 401 token_invalid rather than 400.
const TokenInput = Type.String({ minLength: 1, maxLength: 1024 })
const Scope = Type.String({ pattern: '^[\\x20-\\x7e]{1,200}$', description: 'Printable ASCII.' })
const RedirectTo = Type.String({
  minLength: 1,
  maxLength: 2048,
  description: 'A path on this site (/after) or a URL on an origin in ALLOWED_REDIRECTS.',
})
const Ip = Type.String({ minLength: 2, maxLength: 45, description: 'An IPv4 or IPv6 address.' })

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details with a stable code.' },
)

export const UserSchema = Type.Object({
  id: Uuid,
  email: Type.String(),
  status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
  created_at: Timestamp,
  last_login_at: Type.Union([Timestamp, Type.Null()]),
})
export type UserRecord = Static<typeof UserSchema>

export const LinkRequestSchema = Type.Object(
  {
    email: Type.Optional(Type.String({ minLength: 1, maxLength: 320 })),
    user_id: Type.Optional(Uuid),
    redirect_to: Type.Optional(RedirectTo),
    ttl_seconds: Type.Optional(Type.Integer({ minimum: 1 })),
    scope: Type.Optional(Scope),
    one_time: Type.Optional(Type.Boolean()),
    deliver: Type.Optional(Type.Union([Type.Literal('email'), Type.Literal('none')])),
    create_user: Type.Optional(Type.Boolean()),
    bind_ip: Type.Optional(Ip),
  },
  { additionalProperties: false },
)
export type LinkRequest = Static<typeof LinkRequestSchema>

export const LinkResponseSchema = Type.Object({
  user_id: Uuid,
  expires_at: EpochSeconds,
  delivery: Type.Union([Type.Literal('queued'), Type.Literal('none')]),
  link: Type.Optional(Type.String({ description: 'Only with deliver "none".' })),
})

export const SessionSchema = Type.Object({
  jwt: Type.String(),
  expires_at: EpochSeconds,
  refresh_token: Type.String(),
  refresh_expires_at: EpochSeconds,
})

export const VerifyRequestSchema = Type.Object(
  {
    token: TokenInput,
    scope: Type.Optional(Scope),
    redirect_to: Type.Optional(RedirectTo),
    ip: Type.Optional(Ip),
    consume: Type.Optional(Type.Boolean({ description: 'false checks without using up.' })),
  },
  { additionalProperties: false },
)
export type VerifyRequest = Static<typeof VerifyRequestSchema>

export const VerifyResponseSchema = Type.Object({
  user: UserSchema,
  session: Type.Union([SessionSchema, Type.Null()]),
  redirect_to: Type.Union([Type.String(), Type.Null()]),
  scope: Type.Union([Type.String(), Type.Null()]),
})

export const RefreshRequestSchema = Type.Object(
  { refresh_token: TokenInput },
  { additionalProperties: false },
)

export const ExchangeRequestSchema = Type.Object(
  { code: TokenInput },
  { additionalProperties: false },
)

export const IntrospectRequestSchema = Type.Object(
  { jwt: Type.String({ minLength: 1, maxLength: 8192 }) },
  { additionalProperties: false },
)

export const IntrospectResponseSchema = Type.Object({
  active: Type.Boolean(),
  sub: Type.Optional(Uuid),
  client_id: Type.Optional(
    Type.String({ description: 'The API key that opened or refreshed the session, or hosted.' }),
  ),
  exp: Type.Optional(EpochSeconds),
  iat: Type.Optional(EpochSeconds),
  reason: Type.Optional(Type.String()),
})

export const UserIdParamsSchema = Type.Object({ id: Uuid })

export const UsersQuerySchema = Type.Object(
  {
    email: Type.Optional(Type.String({ minLength: 1, maxLength: 320 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  },
  { additionalProperties: false },
)

export const UsersResponseSchema = Type.Object({ users: Type.Array(UserSchema) })

export const RevokeResponseSchema = Type.Object({ user_id: Uuid, rev: Type.Integer() })

const OutboxStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('sent'),
  Type.Literal('failed'),
  Type.Literal('suppressed'),
])

export const OutboxQuerySchema = Type.Object(
  {
    status: Type.Optional(OutboxStatus),
    user_id: Type.Optional(Uuid),
    before: Type.Optional(Uuid),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  },
  { additionalProperties: false },
)

/** One email's delivery state. Never the link: the payload stays in the database. */
export const OutboxMessageSchema = Type.Object({
  id: Uuid,
  user_id: Type.Union([Uuid, Type.Null()]),
  to: Type.String(),
  status: OutboxStatus,
  reason: Type.Union([
    Type.String({ description: 'Why it was suppressed: unknown_address, user_disabled.' }),
    Type.Null(),
  ]),
  attempts: Type.Integer(),
  last_error: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
  next_attempt_at: Type.Union([Timestamp, Type.Null()]),
  sent_at: Type.Union([Timestamp, Type.Null()]),
})

export const OutboxResponseSchema = Type.Object({
  messages: Type.Array(OutboxMessageSchema),
  counts: Type.Object({
    pending: Type.Integer(),
    sent: Type.Integer(),
    failed: Type.Integer(),
    suppressed: Type.Integer(),
  }),
  next: Type.Optional(Uuid),
})

export const JwksSchema = Type.Object({
  keys: Type.Array(Type.Object({}, { additionalProperties: true })),
})

export const HealthSchema = Type.Object({ status: Type.String() })

/** Responses every authenticated route may give, besides its own. */
export const problemResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, Type.Ref('Problem#')]))
