import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'

/** An email the fake accepted, as it arrived. */
export interface FakeEmail {
  id: string
  from: string
  to: string[]
  subject: string
  html: string | undefined
  text: string | undefined
  /** The custom headers the email was sent with (Content-Language …). */
  headers: Record<string, string>
  idempotencyKey: string | undefined
  receivedAt: Date
}

/** Every request the fake saw, accepted or not. `status` stays undefined for one left hanging. */
export interface FakeRequest {
  method: string
  path: string
  idempotencyKey: string | undefined
  status: number | undefined
  receivedAt: Date
}

export interface FailOptions {
  name?: string
  message?: string
  /** Sent as the Retry-After header, as is: seconds or an HTTP-date. */
  retryAfter?: number | string
  /** Answered as text/html instead of Resend's JSON body, as a proxy in front of it would. */
  html?: string
}

export interface FakeResend {
  /** Base URL for the SDK: `new Resend(key, { baseUrl: fake.url })`. */
  readonly url: string
  readonly port: number
  readonly apiKey: string
  readonly emails: FakeEmail[]
  readonly requests: FakeRequest[]
  /** The next request answers this error (Resend's JSON error body) and records nothing. */
  fail(status: number, options?: FailOptions): FakeResend
  /** The next request is accepted and recorded at once, but its answer is held for `ms`. */
  delay(ms: number): FakeResend
  /** The next request is never answered (and not accepted) until the fake closes. */
  hang(): FakeResend
  /** Stops listening and drops every open connection, hanging ones included. */
  close(): Promise<void>
  /** Listens again on the same port, keeping what it recorded (as Resend would after an outage). */
  restart(): Promise<void>
}

type Behaviour =
  | { kind: 'fail'; status: number; options: FailOptions }
  | { kind: 'delay'; ms: number }
  | { kind: 'hang' }

interface Accepted {
  id: string
  fingerprint: string
}

interface EmailBody {
  from?: unknown
  to?: unknown
  subject?: unknown
  html?: unknown
  text?: unknown
  headers?: unknown
}

/**
 * A local imitation of Resend's `POST /emails`, close enough that the real SDK cannot tell: the
 * same authentication, error bodies, Retry-After and Idempotency-Key semantics. Listens on
 * 127.0.0.1 only.
 */
export async function startFakeResend(
  options: { apiKey?: string; port?: number } = {},
): Promise<FakeResend> {
  const apiKey = options.apiKey ?? 're_test_key'
  const emails: FakeEmail[] = []
  const requests: FakeRequest[] = []
  const script: Behaviour[] = []
  const byKey = new Map<string, Accepted>()
  let app: FastifyInstance | undefined
  let stopping = new AbortController()
  let port = options.port ?? 0

  const error = (reply: FastifyReply, status: number, name: string, message: string) =>
    reply.code(status).send({ statusCode: status, name, message })

  function build(): FastifyInstance {
    // Hanging requests would otherwise keep close() waiting forever.
    const server = Fastify({ logger: false, forceCloseConnections: true })

    const seen = new WeakMap<FastifyRequest, FakeRequest>()
    server.addHook('onRequest', async (request) => {
      const key = request.headers['idempotency-key']
      const record: FakeRequest = {
        method: request.method,
        path: request.url,
        idempotencyKey: typeof key === 'string' ? key : undefined,
        status: undefined,
        receivedAt: new Date(),
      }
      requests.push(record)
      seen.set(request, record)
    })
    server.addHook('onSend', async (request, reply) => {
      const record = seen.get(request)
      if (record !== undefined) record.status = reply.statusCode
    })
    server.setNotFoundHandler((_request, reply) =>
      error(reply, 404, 'not_found', 'The requested endpoint does not exist.'),
    )

    server.post<{ Body: EmailBody }>('/emails', async (request, reply) => {
      const auth = request.headers.authorization
      if (auth === undefined || !auth.startsWith('Bearer ')) {
        return error(reply, 401, 'missing_api_key', 'Missing API key in the authorization header')
      }
      if (auth.slice('Bearer '.length) !== apiKey) {
        return error(reply, 403, 'invalid_api_key', 'API key is invalid')
      }

      const next = script.shift()
      if (next?.kind === 'hang') {
        reply.hijack()
        return
      }
      if (next?.kind === 'fail') {
        const {
          name = 'application_error',
          message = 'Scripted failure',
          retryAfter,
          html,
        } = next.options
        if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter))
        if (html !== undefined) return reply.code(next.status).type('text/html').send(html)
        return error(reply, next.status, name, message)
      }

      const key = request.headers['idempotency-key']
      if (key !== undefined && (typeof key !== 'string' || key.length < 1 || key.length > 256)) {
        return error(reply, 400, 'invalid_idempotency_key', 'The key must be between 1-256 chars')
      }
      const body = request.body ?? {}
      const missing = (['from', 'to', 'subject'] as const).find((field) => !body[field])
      if (missing !== undefined) {
        return error(reply, 422, 'validation_error', `Missing \`${missing}\` field.`)
      }

      // As Resend does: a key already accepted answers the same id and sends nothing; the same key
      // with another payload is refused, so a caller that changes the message between attempts
      // finds out in tests rather than in production.
      const fingerprint = JSON.stringify([body.from, body.to, body.subject, body.html, body.text])
      const previous = key === undefined ? undefined : byKey.get(key)
      let id: string
      if (previous !== undefined) {
        if (previous.fingerprint !== fingerprint) {
          return error(
            reply,
            409,
            'invalid_idempotent_request',
            'Same idempotency key used with a different request payload. Change your idempotency key or payload.',
          )
        }
        id = previous.id
      } else {
        id = randomUUID()
        if (key !== undefined) byKey.set(key, { id, fingerprint })
        emails.push({
          id,
          from: String(body.from),
          to: Array.isArray(body.to) ? body.to.map(String) : [String(body.to)],
          subject: String(body.subject),
          html: typeof body.html === 'string' ? body.html : undefined,
          text: typeof body.text === 'string' ? body.text : undefined,
          headers: stringRecord(body.headers),
          idempotencyKey: key,
          receivedAt: new Date(),
        })
      }

      if (next?.kind === 'delay') {
        await sleep(next.ms, undefined, { signal: stopping.signal }).catch(() => undefined)
      }
      return reply.code(200).send({ id })
    })
    return server
  }

  async function listen(): Promise<void> {
    stopping = new AbortController()
    app = build()
    await app.listen({ host: '127.0.0.1', port })
    const address = app.server.address()
    if (address === null || typeof address === 'string') throw new Error('fake Resend: no port')
    port = address.port
  }

  async function close(): Promise<void> {
    const running = app
    app = undefined
    stopping.abort()
    await running?.close()
  }

  await listen()

  const fake: FakeResend = {
    get url() {
      return `http://127.0.0.1:${port}`
    },
    get port() {
      return port
    },
    apiKey,
    emails,
    requests,
    fail(status, options = {}) {
      script.push({ kind: 'fail', status, options })
      return fake
    },
    delay(ms) {
      script.push({ kind: 'delay', ms })
      return fake
    },
    hang() {
      script.push({ kind: 'hang' })
      return fake
    },
    close,
    async restart() {
      await close()
      await listen()
    },
  }
  return fake
}

/** An object of string values, as Resend's `headers` is; anything else reads as none. */
function stringRecord(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {}
  return Object.fromEntries(
    Object.entries(value).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  )
}
