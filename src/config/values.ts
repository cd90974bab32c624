import Type, { type Static } from 'typebox'

/** The environment as latchkey reads it: every setting a string, or unset. */
export type Env = Readonly<Record<string, string | undefined>>

export const LinkSecretSchema = Type.Object({
  kid: Type.Integer({ minimum: 0, maximum: 255 }),
  // 43 base64url characters carry 32 bytes: anything shorter is a weak secret.
  secret: Type.String({ pattern: '^[A-Za-z0-9_-]{43,}$' }),
})

export const SessionKeySchema = Type.Object(
  {
    kid: Type.String({ minLength: 1 }),
    kty: Type.Union([Type.Literal('OKP'), Type.Literal('EC')]),
    d: Type.String({ minLength: 1 }),
  },
  { additionalProperties: true },
)

export const ApiKeySchema = Type.Object({
  name: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
  role: Type.Union([Type.Literal('service'), Type.Literal('admin'), Type.Literal('metrics')]),
  hash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
})

/** At most `max` requests in each fixed window of `windowSeconds`; null turns a limit off. */
export const RateSchema = Type.Object({
  max: Type.Integer({ minimum: 1, maximum: 1_000_000_000 }),
  windowSeconds: Type.Integer({ minimum: 1, maximum: 24 * 3600 }),
})

export type LinkSecretConfig = Static<typeof LinkSecretSchema>
export type SessionKeyConfig = Static<typeof SessionKeySchema>
export type ApiKeyConfig = Static<typeof ApiKeySchema>
export type Rate = Static<typeof RateSchema>
