import { STATUS_CODES } from 'node:http'
import type { FastifySchemaValidationError } from 'fastify'
import Type, { type Static } from 'typebox'
import type { FeedbackResult } from '../auth/delivery-feedback.js'
import { ERROR_CODES } from '../errors.js'
import { DELIVERY_OUTCOMES, type DeliveryOutcome } from '../store/outbox.js'
import { END_REASONS, type EndReason } from '../store/sessions.js'

/**
 * Every request and response shape of the API. The OpenAPI document is generated from these.
 * Bodies refuse unknown members, so a misspelt option fails loudly instead of being ignored.
 */
const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
const Uuid = Type.String({ pattern: UUID_PATTERN, description: 'A user id (UUID).' })
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
/**
 * A BCP 47 language tag (`de`, `de-CH`, `pt-BR`): a malformed one is 400; a well-formed one that
 * is not in LOCALES gets the nearest that is (`de-CH` → `de`), else DEFAULT_LOCALE.
 */
const Locale = Type.String({
  pattern: '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,6}$',
  maxLength: 35,
  description: 'A BCP 47 language tag for the email, like `de` or `fr-CA`; unknown ones fall back.',
})
const Ip = Type.String({
  minLength: 2,
  maxLength: 45,
  pattern: '^[0-9A-Fa-f.:]+$',
  description: 'An IPv4 or IPv6 address.',
})
const UserAgent = Type.String({
  maxLength: 1024,
  pattern: '^[^\\x00-\\x1f\\x7f]*$',
  description:
    "The signing-in device's User-Agent, recorded with its session (first 512 characters).",
})
const SessionId = Type.String({
  pattern: UUID_PATTERN,
  description: 'A session id (UUID).',
})
// Request examples are shaped like the real thing (Swagger UI sends them as they are) and
// verify nothing: trying them answers 401 or `active: false`, never 400.
const TOKEN_EXAMPLE = `AQEB${'A'.repeat(60)}`
const JWT_EXAMPLE =
  'eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6ImtleS0xIn0.eyJzdWIiOiIwMTkwZjFiMi03YzNkLTdlNGYtOGE1Yi02YzdkOGU5ZjBhMWIifQ.bm90IGEgc2lnbmF0dXJl'

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.Enum(ERROR_CODES, {
      type: 'string',
      description: 'What went wrong, for programs: stable across versions.',
    }),
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

// Exactly one of email and user_id: `{}` and both together fail validation (400), and the
// document says so. The members are listed once, so a mistake in one is reported once.
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
    locale: Type.Optional(Locale),
  },
  {
    additionalProperties: false,
    oneOf: [
      Type.Object({ email: Type.String() }, { title: 'By email' }),
      Type.Object({ user_id: Type.String() }, { title: 'By user id' }),
    ],
    'x-examples': {
      email: {
        summary: 'Return the link instead of emailing it; the user is created on first use',
        value: { email: 'ada@example.com', deliver: 'none' },
      },
      user_id: {
        summary: 'Email a link to a known user, back to /after when used',
        value: { user_id: '0190f1b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b', redirect_to: '/after' },
      },
    },
  },
)

/**
 * Validation messages for a body with a oneOf: the oneOf's own ("must match exactly one schema in
 * oneOf") and its branches' say nothing to a person, so they become one sentence naming the
 * choice. Every other mistake is reported as Fastify would.
 */
export const oneOfMessages =
  (choice: string) =>
  (errors: FastifySchemaValidationError[], dataVar: string): Error => {
    const messages = errors.flatMap((error) => {
      if (error.schemaPath.startsWith('#/oneOf/')) return []
      if (error.keyword === 'oneOf' && error.instancePath === '') {
        return [`${dataVar} must have ${choice}`]
      }
      return [`${dataVar}${error.instancePath} ${error.message}`]
    })
    return new Error(messages.join(', '))
  }

export const LinkResponseSchema = Type.Object({
  user_id: Uuid,
  expires_at: EpochSeconds,
  delivery: Type.Union([Type.Literal('queued'), Type.Literal('none')]),
  link: Type.Optional(Type.String({ description: 'Only with deliver "none".' })),
})

export const SessionSchema = Type.Object({
  jwt: Type.String(),
  expires_at: EpochSeconds,
  refresh_token: Type.String({
    description: 'Single use: each refresh returns the next one (see README, "Sessions").',
  }),
  refresh_expires_at: EpochSeconds,
  session_id: SessionId,
})

export const VerifyRequestSchema = Type.Object(
  {
    token: TokenInput,
    scope: Type.Optional(Scope),
    redirect_to: Type.Optional(RedirectTo),
    ip: Type.Optional(Ip),
    user_agent: Type.Optional(UserAgent),
    consume: Type.Optional(Type.Boolean({ description: 'false checks without using up.' })),
  },
  { additionalProperties: false, examples: [{ token: TOKEN_EXAMPLE }] },
)

export const VerifyResponseSchema = Type.Object({
  user: UserSchema,
  session: Type.Union([SessionSchema, Type.Null()]),
  redirect_to: Type.Union([Type.String(), Type.Null()]),
  scope: Type.Union([Type.String(), Type.Null()]),
})

// The code is bounded, not shape-checked: a code that is not one answers 401 code_invalid, the
// answer of a wrong one, never a 400 that tells the two apart.
export const CodeVerifyRequestSchema = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 320 }),
    code: Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'As typed: case, spaces and hyphens do not matter; O reads as 0, I and L as 1.',
    }),
    ip: Type.Optional(Ip),
    user_agent: Type.Optional(UserAgent),
  },
  {
    additionalProperties: false,
    examples: [{ email: 'ada@example.com', code: 'K7QM-4TZP' }],
  },
)

export const RefreshRequestSchema = Type.Object(
  { refresh_token: TokenInput },
  { additionalProperties: false, examples: [{ refresh_token: TOKEN_EXAMPLE }] },
)

export const ExchangeRequestSchema = Type.Object(
  { code: TokenInput, ip: Type.Optional(Ip), user_agent: Type.Optional(UserAgent) },
  { additionalProperties: false, examples: [{ code: TOKEN_EXAMPLE }] },
)

const JwtInput = Type.String({ minLength: 1, maxLength: 8192 })

export const IntrospectRequestSchema = Type.Object(
  {
    jwt: Type.Optional(JwtInput),
    token: Type.Optional(JwtInput),
    token_type_hint: Type.Optional(Type.String({ maxLength: 64, description: 'Ignored.' })),
  },
  {
    additionalProperties: false,
    description:
      'JSON `{jwt}`, or the RFC 7662 form (`token=…` as application/x-www-form-urlencoded).',
    oneOf: [
      Type.Object({ jwt: Type.String() }, { title: 'JSON' }),
      Type.Object({ token: Type.String() }, { title: 'RFC 7662' }),
    ],
    examples: [{ jwt: JWT_EXAMPLE }],
  },
)

export const EndSessionRequestSchema = Type.Object(
  { refresh_token: Type.Optional(TokenInput), session_id: Type.Optional(SessionId) },
  {
    additionalProperties: false,
    oneOf: [
      Type.Object({ refresh_token: Type.String() }, { title: 'By refresh token' }),
      Type.Object({ session_id: Type.String() }, { title: 'By session id' }),
    ],
    examples: [{ refresh_token: TOKEN_EXAMPLE }],
  },
)

export const IntrospectResponseSchema = Type.Object({
  active: Type.Boolean(),
  sub: Type.Optional(Uuid),
  sid: Type.Optional(SessionId),
  client_id: Type.Optional(
    Type.String({ description: 'The API key that opened the session, or hosted.' }),
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

export const SessionIdParamsSchema = Type.Object({ id: SessionId })

export const SessionsQuerySchema = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })) },
  { additionalProperties: false },
)

const EndReasonSchema = Type.Unsafe<EndReason>({ type: 'string', enum: [...END_REASONS] })

export const SessionRecordSchema = Type.Object({
  id: SessionId,
  user_id: Uuid,
  client: Type.String({ description: 'The API key that opened it, or hosted.' }),
  created_at: Timestamp,
  last_refreshed_at: Type.Union([Timestamp, Type.Null()]),
  expires_at: Timestamp,
  ended_at: Type.Union([Timestamp, Type.Null()]),
  end_reason: Type.Union([EndReasonSchema, Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
})

export const SessionsResponseSchema = Type.Object({
  sessions: Type.Array(SessionRecordSchema, {
    description:
      'Open sessions, and those that ended or expired in the last 30 days; newest first.',
  }),
})

export const RevokeResponseSchema = Type.Object({ user_id: Uuid, rev: Type.Integer() })

const OutboxStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('sent'),
  Type.Literal('failed'),
  Type.Literal('suppressed'),
])

/** What an outbox row is (outbox/jobs.ts): a sign-in or access link by email, or a webhook. */
const OutboxKind = Type.Union([Type.Literal('email'), Type.Literal('webhook')])

export const OutboxQuerySchema = Type.Object(
  {
    status: Type.Optional(OutboxStatus),
    kind: Type.Optional(OutboxKind),
    user_id: Type.Optional(Uuid),
    before: Type.Optional(Uuid),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  },
  { additionalProperties: false },
)

/**
 * One delivery's state: an email or a webhook. Never the link, nor a webhook's body: the payload
 * stays in the database.
 */
export const OutboxMessageSchema = Type.Object({
  id: Uuid,
  // A string rather than OutboxKind: a row a newer version queued may be of a kind this one
  // does not know, and listing it must not fail.
  kind: Type.String({ description: '`email` or `webhook`.' }),
  user_id: Type.Union([
    Uuid,
    Type.Null({
      description: 'An address without a user, and every webhook (its body names the user).',
    }),
  ]),
  to: Type.String({
    description: 'The email address, or the webhook receiver URL without its query.',
  }),
  status: OutboxStatus,
  reason: Type.Union([
    Type.String({
      description:
        'Why it was suppressed: unknown_address, user_disabled, or the suppression list entry (reported, bounced, complained).',
    }),
    Type.Null(),
  ]),
  attempts: Type.Integer(),
  last_error: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
  next_attempt_at: Type.Union([Timestamp, Type.Null()]),
  sent_at: Type.Union([Timestamp, Type.Null()]),
  delivery: Type.Union([
    Type.Unsafe<DeliveryOutcome>({
      type: 'string',
      enum: [...DELIVERY_OUTCOMES],
      description:
        "What the mail provider reported after accepting it (Resend's webhooks): the strongest report so far.",
    }),
    Type.Null({ description: 'Nothing reported (yet), or not an email.' }),
  ]),
  delivery_at: Type.Union([Timestamp, Type.Null()]),
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

export const SuppressionsQuerySchema = Type.Object(
  {
    after: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 320,
        description: 'The `next` of the previous page: the last address it listed.',
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  },
  { additionalProperties: false },
)

/** An inbox no email goes to, for a while or for good. */
export const SuppressionRecordSchema = Type.Object({
  address: Type.String({
    description:
      'The inbox: lower-cased, without a +tag, Gmail dots ignored. Every spelling of it is covered.',
  }),
  email: Type.String({ description: 'The address the entry was made for.' }),
  reason: Type.String({
    description: '`reported` (a "this wasn\'t me" report), `bounced`, `complained`.',
  }),
  created_at: Timestamp,
  expires_at: Type.Union([Timestamp, Type.Null({ description: 'Never: for good.' })]),
})

export const SuppressionsResponseSchema = Type.Object({
  suppressions: Type.Array(SuppressionRecordSchema, {
    description: 'The entries in force now, by address.',
  }),
  next: Type.Optional(Type.String()),
})

export const SuppressionParamsSchema = Type.Object({
  email: Type.String({ minLength: 1, maxLength: 320, description: 'Any spelling of the inbox.' }),
})

/** What became of a Resend callback (auth/delivery-feedback.ts); every one is acknowledged. */
export const ResendWebhookResponseSchema = Type.Object({
  result: Type.Unsafe<FeedbackResult>({
    type: 'string',
    enum: ['recorded', 'duplicate', 'unknown_email', 'ignored'],
    description:
      '`recorded`; `duplicate`: this callback id was processed before; `unknown_email`: no email of this service has that id; `ignored`: an event type latchkey does not act on.',
  }),
})

/** The Svix headers, described for the document; their checks answer 401, not 400. */
export const ResendWebhookHeadersSchema = Type.Object({
  'svix-id': Type.Optional(Type.String({ description: 'The callback id, the same on retries.' })),
  'svix-timestamp': Type.Optional(
    Type.String({ description: 'Seconds since the epoch; within 5 minutes of now.' }),
  ),
  'svix-signature': Type.Optional(
    Type.String({ description: 'Space-separated `v1,<base64 HMAC-SHA256>` entries.' }),
  ),
})

export const JwksSchema = Type.Object({
  keys: Type.Array(Type.Object({}, { additionalProperties: true })),
})

export const HealthSchema = Type.Object({ status: Type.String() })

const RetryAfter = Type.Integer({ minimum: 0, description: 'Seconds to wait before trying again.' })

/**
 * Error answers as they are sent: problem+json, with Retry-After where waiting is the answer.
 * The given statuses are those a route's own work can answer; `4xx` stands for the client errors
 * any route can meet (wrong method, slow or oversized request, unsupported media type …).
 */
export const problemResponses = (...statuses: number[]) =>
  Object.fromEntries(
    [...statuses, '4xx'].map((status) => [
      status,
      {
        description: typeof status === 'number' ? STATUS_CODES[status] : 'Any other client error',
        ...(status === 429 || status === 503 ? { headers: { 'Retry-After': RetryAfter } } : {}),
        content: { 'application/problem+json': { schema: Type.Ref('Problem#') } },
      },
    ]),
  )

const AUDIT_TYPE_PATTERN = '^[a-z]+(\\.[a-z_]+|\\.\\*)$'

export const AuditQuerySchema = Type.Object(
  {
    user_id: Type.Optional(Uuid),
    type: Type.Optional(
      Type.String({
        pattern: AUDIT_TYPE_PATTERN,
        maxLength: 64,
        description: 'An event type (session.ended), or a family of them (session.*).',
      }),
    ),
    before: Type.Optional(
      Type.String({ pattern: UUID_PATTERN, description: 'The `next` of the previous page.' }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  },
  { additionalProperties: false },
)

/** One audit event. Never a token, code, JWT, key or cookie. */
export const AuditEventSchema = Type.Object({
  id: Type.String({ pattern: UUID_PATTERN, description: 'The event id (UUIDv7).' }),
  at: Timestamp,
  type: Type.String({ description: 'user.created, link.verified, session.ended …' }),
  user_id: Type.Union([Uuid, Type.Null()]),
  session_id: Type.Union([SessionId, Type.Null()]),
  actor: Type.String({ description: 'key:<api key name>, hosted, cli or system.' }),
  ip: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Object({}, { additionalProperties: true, description: 'Depends on the type.' }),
})

export const AuditResponseSchema = Type.Object({
  events: Type.Array(AuditEventSchema, { description: 'Newest first.' }),
  next: Type.Optional(
    Type.String({ pattern: UUID_PATTERN, description: 'Pass as `before` for the next page.' }),
  ),
})

export const RevocationsQuerySchema = Type.Object(
  {
    after: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9_-]{1,200}$',
        description: 'The `cursor` of the previous answer; absent: from the oldest kept.',
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
)

export const RevocationSchema = Type.Object({
  user_id: Uuid,
  rev: Type.Integer({
    minimum: 0,
    description: "The user's rev after the change: JWTs whose rev claim is lower are revoked.",
  }),
  session_id: Type.Optional(
    Type.String({
      pattern: UUID_PATTERN,
      description: 'Set when one session ended: JWTs whose sid is this are revoked.',
    }),
  ),
  reason: Type.String({
    description: 'revoked, reported, disabled, deleted, logout, refresh_reused or admin.',
  }),
  at: Timestamp,
})

export const RevocationsResponseSchema = Type.Object({
  revocations: Type.Array(RevocationSchema, { description: 'In commit order.' }),
  cursor: Type.String({
    description: 'Opaque; pass it as `after` to read on. Unchanged when nothing was new.',
  }),
})

export const LinkViewsQuerySchema = Type.Object(
  {
    since: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 40,
        description:
          'Where the window starts: an ISO 8601 time (2026-01-31T00:00:00Z) or a duration back from now (7d, 24h, 30m). Default 7d.',
      }),
    ),
  },
  { additionalProperties: false },
)

const LinkCount = (description: string) => Type.Integer({ minimum: 0, description })

export const DomainLinkViewsSchema = Type.Object({
  domain: Type.String({
    description: 'The recipient address’s domain (googlemail.com as gmail.com).',
  }),
  links_issued: LinkCount(
    'Sign-in emails sent (outbox kind email, status sent) created in the window; one per link, a link being its user and its expiry.',
  ),
  links_opened: LinkCount('Of those, links whose page was opened (GET or HEAD) at least once.'),
  opened_before_person: LinkCount(
    "Used links whose page was opened before the person's own view: the first view with the binding cookie, else the last view before the link was used.",
  ),
  opened_only_without_cookie: LinkCount(
    'Opened links never used whose every view lacked the binding cookie: a scanner prefetch only, or opened on another device and abandoned.',
  ),
  used: LinkCount('Links used (link.verified).'),
  median_seconds_to_first_view: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], {
    description: 'Over opened links: the median of seconds from the email to the first view.',
  }),
})

export const LinkViewsResponseSchema = Type.Object({
  since: Timestamp,
  until: Timestamp,
  domains: Type.Array(DomainLinkViewsSchema, { description: 'Most links issued first.' }),
  truncated: Type.Boolean({
    description:
      'True when a bound on the rows read (100,000 per listing) was reached: the counts then cover only the most recent part of the window.',
  }),
})
