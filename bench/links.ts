/**
 * The login-link scenarios: POST /v1/links/verify with one-time tokens, reusable tokens and
 * forged ones, for the bench users.
 */
import type autocannon from 'autocannon'
import type { Server } from './children.js'
import type { Latchkey } from './latchkey.js'
import { Ring } from './ring.js'
import { FaultTally, type Scenario } from './scenario.js'
import type { BenchUser } from './seed.js'
import { withBody } from './sessions.js'

const PATH = '/v1/links/verify'

/** Per-connection autocannon context: the user whose one-time token is in flight. */
interface Slot {
  user?: BenchUser | undefined
}

const withToken = (request: autocannon.Request, token: string): autocannon.Request =>
  withBody(request, { token })

/** Reusable login tokens, round robin over the users (many sessions per user are fine). */
export function reusableTokens(users: readonly BenchUser[], latchkey: Latchkey): () => string {
  let next = 0
  return () => latchkey.mintLogin(users[next++ % users.length] as BenchUser, false)
}

/**
 * Every request with a fresh one-time login token (the conditional seq update). A user goes back
 * into the FIFO pool only after a 200, with seq + 1, so a token is never stale, whatever the
 * run's length.
 */
export function oneTimeScenario(
  server: Server,
  users: BenchUser[],
  latchkey: Latchkey,
  name = 'latchkey verify, one-time link',
): Scenario {
  const pool = new Ring<BenchUser>(users)
  const faults = new FaultTally()
  const first = users[0]
  if (!first) throw new Error('no bench users')
  const staleToken = latchkey.mintLogin({ ...first, seq: 0xffffffff }, true)
  return {
    name,
    server,
    path: PATH,
    headers: latchkey.headers,
    setupRequest: (request, context) => {
      const user = pool.shift()
      ;(context as Slot).user = user
      if (!user) faults.other('requests found the one-time user pool empty')
      // An empty pool only follows thousands of failures; the stale token makes it visible.
      return withToken(request, user ? latchkey.mintLogin(user, true) : staleToken)
    },
    onResponse: (status, body, context) => {
      const slot = context as Slot
      const user = slot.user
      slot.user = undefined
      if (status === 200) checkOpened(body, faults)
      if (user && status === 200) {
        user.seq += 1
        pool.push(user)
      }
    },
    takeFaults: () => faults.take(),
  }
}

/** The same with reusable tokens (touchLogin instead of consume). */
export function reusableScenario(server: Server, users: BenchUser[], latchkey: Latchkey): Scenario {
  const token = reusableTokens(users, latchkey)
  const faults = new FaultTally()
  return {
    name: 'latchkey verify, reusable link',
    server,
    path: PATH,
    headers: latchkey.headers,
    setupRequest: (request) => withToken(request, token()),
    onResponse: (status, body) => {
      if (status === 200) checkOpened(body, faults)
    },
    takeFaults: () => faults.take(),
  }
}

/**
 * A well-formed 64-character token whose MAC is wrong, which must answer 401 token_invalid:
 * decoding, one HMAC and the problem answer, never the store.
 */
export function forgedScenario(server: Server, users: BenchUser[], latchkey: Latchkey): Scenario {
  let next = 0
  const faults = new FaultTally()
  return {
    name: 'latchkey reject a forged token',
    server,
    path: PATH,
    headers: latchkey.headers,
    expectStatus: 401,
    setupRequest: (request) =>
      withToken(request, latchkey.forgeLogin(users[next++ % users.length] as BenchUser)),
    onResponse: (status, body) => {
      if (status !== 401) faults.wrong(`${status} instead of 401`)
      else if (!body.includes('"code":"token_invalid"')) faults.wrong('401 not token_invalid')
    },
    takeFaults: () => faults.take(),
  }
}

/** A floor route: the same body and headers as verify (a reusable token), which it ignores. */
export function floorScenario(
  name: string,
  server: Server,
  path: string,
  latchkey: Latchkey,
  token: () => string,
): Scenario {
  return {
    name,
    server,
    path,
    headers: latchkey.headers,
    setupRequest: (request) => withToken(request, token()),
  }
}

/** A login link's verify answer carries a session (JWT and refresh token); null would be wrong. */
function checkOpened(body: string, faults: FaultTally): void {
  if (!body.includes('"refresh_token":"')) faults.wrong('200 without a session')
}
