/**
 * The session scenarios of `npm run bench`: refresh and introspection, on sessions the load
 * generator opens itself through POST /v1/links/verify, outside the timing.
 */
import type autocannon from 'autocannon'
import type { Server } from './children.js'
import { Ring } from './ring.js'
import { FaultTally, type Scenario } from './scenario.js'

/** Where the sessions are opened, and how to sign a login link for the next one. */
export interface SessionSource {
  server: Server
  headers: Record<string, string>
  /** A reusable login token for some bench user: many sessions per user are fine. */
  loginToken: () => string
  /** How many verify calls are in flight while seeding. */
  concurrency: number
}

interface Opened {
  jwt: string
  refreshToken: string
}

/** `count` new sessions, each as verify answered it; throws on any answer but a session. */
export async function openSessions(source: SessionSource, count: number): Promise<Opened[]> {
  const opened: Opened[] = []
  const openOne = async (): Promise<void> => {
    const response = await fetch(`${source.server.url}/v1/links/verify`, {
      method: 'POST',
      headers: source.headers,
      body: JSON.stringify({ token: source.loginToken() }),
    })
    const text = await response.text()
    const session = response.status === 200 ? JSON.parse(text).session : undefined
    if (typeof session?.jwt !== 'string' || typeof session?.refresh_token !== 'string') {
      throw new Error(`seeding: verify answered ${response.status} without a session: ${text}`)
    }
    opened.push({ jwt: session.jwt, refreshToken: session.refresh_token })
  }
  const worker = async (): Promise<void> => {
    while (opened.length + inFlight < count) {
      inFlight++
      try {
        await openOne()
      } finally {
        inFlight--
      }
    }
  }
  let inFlight = 0
  await Promise.all(Array.from({ length: Math.min(source.concurrency, count) }, worker))
  return opened
}

/** One session's rotation chain: the latest refresh token it was given. */
interface Chain {
  token: string
}

/** Per-request autocannon context: the chain whose token is in flight. */
interface ChainSlot {
  chain?: Chain | undefined
}

/**
 * Refresh as a backend does it under rotation: every request presents the latest refresh token
 * of its session, and the next request of that session waits for the answer. The pool holds one
 * session per request in flight, made fresh before each run: a run cut off at its end leaves
 * tokens whose rotation may or may not have landed, which the next run must not inherit.
 */
export function refreshScenario(source: SessionSource, inFlight: number): Scenario {
  let pool = new Ring<Chain>([])
  const faults = new FaultTally()
  return {
    name: 'latchkey refresh, rotating',
    server: source.server,
    headers: source.headers,
    path: '/v1/sessions/refresh',
    prepare: async () => {
      const opened = await openSessions(source, inFlight)
      pool = new Ring(opened.map((s) => ({ token: s.refreshToken })))
    },
    setupRequest: (request, context) => {
      const chain = pool.shift()
      ;(context as ChainSlot).chain = chain
      // Only a request whose answer never came (a timeout, a dropped connection) loses a chain.
      if (!chain) faults.other('requests found every session in flight (a lost answer)')
      return withBody(request, { refresh_token: chain?.token ?? 'none' })
    },
    onResponse: (status, body, context) => {
      const slot = context as ChainSlot
      const chain = slot.chain
      slot.chain = undefined
      if (!chain) return
      if (status === 200) {
        const next = parseJson(body)?.refresh_token
        // The token already held, back again: no rotation, or the grace window replaying an
        // answer this chain already had (two requests presented one token). Neither is measured.
        if (typeof next !== 'string') faults.wrong('200 without a refresh_token')
        else if (next === chain.token) faults.wrong('200 replaying the token presented')
        else chain.token = next
      }
      // After a failure the chain keeps the token it holds, as a client retrying would: autocannon
      // has counted the status, and the next request shows what the session became.
      pool.push(chain)
    },
    takeFaults: () => faults.take(),
  }
}

/**
 * Introspection of live session JWTs, round robin over sessions opened before each run (a JWT
 * lives SESSION_TTL, so each run gets its own). Every answer must say active.
 */
export function introspectScenario(source: SessionSource, count: number): Scenario {
  let jwts: string[] = []
  let next = 0
  const faults = new FaultTally()
  return {
    name: 'latchkey introspect',
    server: source.server,
    headers: source.headers,
    path: '/v1/sessions/introspect',
    prepare: async () => {
      jwts = (await openSessions(source, count)).map((s) => s.jwt)
      next = 0
    },
    setupRequest: (request) => withBody(request, { jwt: jwts[next++ % jwts.length] }),
    onResponse: (status, body) => {
      if (status !== 200 || body.includes('"active":true')) return
      faults.wrong(`inactive answers (${parseJson(body)?.reason ?? body.slice(0, 80)})`)
    },
    takeFaults: () => faults.take(),
  }
}

export function withBody(request: autocannon.Request, body: object): autocannon.Request {
  return { ...request, body: JSON.stringify(body) }
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(text) as Record<string, unknown>
  } catch {
    return undefined
  }
}
