import type { operations } from './api-types.js'
import { LatchkeyError, type Problem } from './errors.js'

type Operation = keyof operations
type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never

/** The JSON body an operation takes, as openapi.yaml describes it. */
export type RequestOf<O extends Operation> = Json<operations[O]['requestBody']>
/** The JSON body an operation answers with on success. */
export type AnswerOf<O extends Operation, S extends keyof operations[O]['responses']> = Json<
  operations[O]['responses'][S]
>
/** The query parameters an operation takes. */
export type QueryOf<O extends Operation> = NonNullable<operations[O]['parameters']['query']>

/**
 * Where each operation lives. A test checks every row against openapi.yaml, so a moved route
 * fails there rather than in a backend.
 */
export const ROUTES = {
  issueLink: ['POST', '/v1/links'],
  verifyLink: ['POST', '/v1/links/verify'],
  refreshSession: ['POST', '/v1/sessions/refresh'],
  endSession: ['POST', '/v1/sessions/end'],
  exchangeCode: ['POST', '/v1/sessions/exchange'],
  introspectSession: ['POST', '/v1/sessions/introspect'],
  getJwks: ['GET', '/.well-known/jwks.json'],
  listUsers: ['GET', '/v1/admin/users'],
  getUser: ['GET', '/v1/admin/users/{id}'],
  deleteUser: ['DELETE', '/v1/admin/users/{id}'],
  revokeUser: ['POST', '/v1/admin/users/{id}/revoke'],
  disableUser: ['POST', '/v1/admin/users/{id}/disable'],
  enableUser: ['POST', '/v1/admin/users/{id}/enable'],
  listUserSessions: ['GET', '/v1/admin/users/{id}/sessions'],
  endSessionAsAdmin: ['DELETE', '/v1/admin/sessions/{id}'],
  listOutbox: ['GET', '/v1/admin/outbox'],
} as const satisfies Partial<Record<Operation, readonly [string, string]>>

export interface ClientOptions {
  /** latchkey's PUBLIC_URL (or wherever the backend reaches it). */
  url: string | URL
  /** An API key with role `service` (or `admin` for the admin calls). */
  apiKey: string
  /** Per request; 10 s unless given. */
  timeoutMs?: number
  /** For tests and custom agents; the global fetch unless given. */
  fetch?: typeof fetch
}

export interface LatchkeyClient {
  issueLink(body: RequestOf<'issueLink'>): Promise<AnswerOf<'issueLink', 202>>
  verifyLink(body: RequestOf<'verifyLink'>): Promise<AnswerOf<'verifyLink', 200>>
  /** Rotation: keep the answer's refresh_token and drop the one sent. */
  refresh(refreshToken: string): Promise<AnswerOf<'refreshSession', 200>>
  /** A backend's logout: by the session's refresh token or its id. */
  endSession(by: RequestOf<'endSession'>): Promise<void>
  /** The hosted pages' `code` handoff. */
  exchange(body: RequestOf<'exchangeCode'>): Promise<AnswerOf<'exchangeCode', 200>>
  /** Asks latchkey whether a session JWT is live: sees a logout or a revoke at once. */
  introspect(jwt: string): Promise<AnswerOf<'introspectSession', 200>>
  jwks(): Promise<AnswerOf<'getJwks', 200>>
  /** The admin API: the key needs role `admin`. */
  admin: {
    listUsers(query?: QueryOf<'listUsers'>): Promise<AnswerOf<'listUsers', 200>>
    getUser(id: string): Promise<AnswerOf<'getUser', 200>>
    deleteUser(id: string): Promise<void>
    revokeUser(id: string): Promise<AnswerOf<'revokeUser', 200>>
    disableUser(id: string): Promise<AnswerOf<'disableUser', 200>>
    enableUser(id: string): Promise<AnswerOf<'enableUser', 200>>
    listUserSessions(
      id: string,
      query?: QueryOf<'listUserSessions'>,
    ): Promise<AnswerOf<'listUserSessions', 200>>
    endSession(id: string): Promise<void>
    listOutbox(query?: QueryOf<'listOutbox'>): Promise<AnswerOf<'listOutbox', 200>>
  }
}

interface Call {
  id?: string
  query?: Record<string, string | number | boolean | undefined>
  body?: unknown
}

/** A client for latchkey's service and admin API. Every failure is a LatchkeyError. */
export function createClient(options: ClientOptions): LatchkeyClient {
  const base = new URL(options.url)
  const doFetch = options.fetch ?? fetch
  const timeoutMs = options.timeoutMs ?? 10_000

  async function call<T>(operation: keyof typeof ROUTES, args: Call = {}): Promise<T> {
    const [method, template] = ROUTES[operation]
    // encodeURIComponent: an id is data, never more path.
    const path = template.replace('{id}', encodeURIComponent(args.id ?? ''))
    const url = new URL(path.slice(1), base.href.endsWith('/') ? base : `${base.href}/`)
    for (const [name, value] of Object.entries(args.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value))
    }
    const headers: Record<string, string> = {
      authorization: `Bearer ${options.apiKey}`,
      accept: 'application/json, application/problem+json',
    }
    if (args.body !== undefined) headers['content-type'] = 'application/json'
    let res: Response
    try {
      res = await doFetch(url, {
        method,
        headers,
        body: args.body === undefined ? undefined : JSON.stringify(args.body),
        signal: AbortSignal.timeout(timeoutMs),
      })
    } catch (cause) {
      throw new LatchkeyError('unexpected_response', 503, `${method} ${path}: no answer`, {
        cause,
      })
    }
    if (res.ok) {
      if (res.status === 204) return undefined as T
      return (await res.json()) as T
    }
    throw await problemOf(res, `${method} ${path}`)
  }

  return {
    issueLink: (body) => call('issueLink', { body }),
    verifyLink: (body) => call('verifyLink', { body }),
    refresh: (refreshToken) => call('refreshSession', { body: { refresh_token: refreshToken } }),
    endSession: (by) => call('endSession', { body: by }),
    exchange: (body) => call('exchangeCode', { body }),
    introspect: (jwt) => call('introspectSession', { body: { jwt } }),
    jwks: () => call('getJwks'),
    admin: {
      listUsers: (query) => call('listUsers', { query: { ...query } }),
      getUser: (id) => call('getUser', { id }),
      deleteUser: (id) => call('deleteUser', { id }),
      revokeUser: (id) => call('revokeUser', { id }),
      disableUser: (id) => call('disableUser', { id }),
      enableUser: (id) => call('enableUser', { id }),
      listUserSessions: (id, query) => call('listUserSessions', { id, query: { ...query } }),
      endSession: (id) => call('endSessionAsAdmin', { id }),
      listOutbox: (query) => call('listOutbox', { query: { ...query } }),
    },
  }
}

/** A failed answer as a LatchkeyError: latchkey's problem when it is one, else what came. */
export async function problemOf(res: Response, what: string): Promise<LatchkeyError> {
  const retry = Number(res.headers.get('retry-after'))
  const retryAfter = Number.isFinite(retry) && retry >= 0 ? retry : undefined
  const type = res.headers.get('content-type') ?? ''
  if (type.startsWith('application/problem+json')) {
    const problem = (await res.json().catch(() => undefined)) as Problem | undefined
    if (problem && typeof problem.code === 'string') {
      return new LatchkeyError(problem.code, res.status, `${what}: ${problem.code}`, {
        problem,
        ...(retryAfter === undefined ? {} : { retryAfter }),
      })
    }
  }
  if (!res.bodyUsed) await res.body?.cancel()
  return new LatchkeyError('unexpected_response', res.status, `${what}: HTTP ${res.status}`, {
    ...(retryAfter === undefined ? {} : { retryAfter }),
  })
}
