import { problemOf } from './api.js'
import { LatchkeyError } from './errors.js'

/** One entry of `GET /v1/revocations`: a user's rev moved on, or one session ended. */
export interface Revocation {
  user_id: string
  /** The user's rev after the change: JWTs with a lower `rev` are dead. */
  rev: number
  /** Set when one session ended; absent (or null) when the user's rev moved. */
  session_id?: string | null
  reason: string
  /** When it happened: milliseconds or seconds since the epoch, or an ISO date. */
  at: number | string
}

export interface RevocationPage {
  revocations: Revocation[]
  /** Opaque: handed back as `after`. */
  cursor: string
}

/** A timer the follower schedules its next poll with; tests pass their own. */
export type SetTimer = (run: () => void, ms: number) => { cancel(): void }

export interface RevocationFollowerOptions {
  url: string | URL
  /** Role `service` or `admin`. */
  apiKey: string
  /** Milliseconds between polls. */
  interval: number
  /** How long an entry is kept, in milliseconds: at least the longest JWT lifetime. */
  retention: number
  /** Entries per request. */
  limit?: number
  now?: () => number
  fetch?: typeof fetch
  setTimer?: SetTimer
  /** Called with every failed poll; the follower keeps polling. */
  onError?: (error: unknown) => void
}

// latchkey instances may disagree about the time by a little: an entry stamped by one may be a
// little older than a JWT another signed just before the change. Entries are kept this much
// longer than `retention`, so the age check in verify always covers what pruning drops.
const PRUNE_MARGIN_MS = 60_000
// A feed that answers full pages forever (a cursor that never moves) must not hang a sync.
const MAX_PAGES_PER_SYNC = 1000

const defaultSetTimer: SetTimer = (run, ms) => {
  const timer = setTimeout(run, ms)
  // A verifier must never be what keeps a process alive.
  timer.unref()
  return { cancel: () => clearTimeout(timer) }
}

/**
 * Follows latchkey's revocation feed and answers, from memory, whether a session JWT is dead.
 * Memory stays bounded: per user only the highest rev seen (and when it last rose), per ended
 * session its id and time, both dropped `retention` after the change. That is safe because
 * verify rejects any JWT older than `retention` by itself (see verifier.ts).
 */
export class RevocationFollower {
  readonly #options: RevocationFollowerOptions
  readonly #now: () => number
  readonly #setTimer: SetTimer
  readonly #revs = new Map<string, { rev: number; at: number }>()
  readonly #ended = new Map<string, number>()
  #cursor: string | undefined
  #inflight: Promise<void> | undefined
  #queued: Promise<void> | undefined
  #timer: { cancel(): void } | undefined
  #closed = false
  #lastSyncAt: number | undefined

  constructor(options: RevocationFollowerOptions) {
    if (!(options.interval > 0)) throw new TypeError('interval must be a positive number of ms')
    if (!(options.retention > 0)) throw new TypeError('retention must be a positive number of ms')
    this.#options = options
    this.#now = options.now ?? Date.now
    this.#setTimer = options.setTimer ?? defaultSetTimer
  }

  /** When the last sync succeeded (ms since the epoch), undefined before the first. */
  get lastSyncAt(): number | undefined {
    return this.#lastSyncAt
  }

  /** How many users and sessions are remembered: what the memory bound is about. */
  get size(): { users: number; sessions: number } {
    return { users: this.#revs.size, sessions: this.#ended.size }
  }

  /** Why a JWT with these claims is dead, as far as the feed has said; undefined if it is not. */
  check(claims: {
    sub: string
    sid: string
    rev: number
  }): 'session_ended' | 'token_revoked' | undefined {
    // The rev first: a revoke also ends each of the user's sessions, and latchkey's own answer
    // for such a JWT (introspection) is token_revoked.
    const user = this.#revs.get(claims.sub)
    if (user !== undefined && claims.rev < user.rev) return 'token_revoked'
    if (this.#ended.has(claims.sid)) return 'session_ended'
    return undefined
  }

  /** Syncs now, then every `interval` after each sync ends (polls never overlap). */
  start(): Promise<void> {
    const first = this.sync()
    const loop = () => {
      if (this.#closed) return
      this.#timer = this.#setTimer(() => {
        this.sync().then(loop, loop)
      }, this.#options.interval)
    }
    first.then(loop, loop)
    return first
  }

  close(): void {
    this.#closed = true
    this.#timer?.cancel()
  }

  /**
   * Reads every page after the cursor and applies it: once it resolves, everything the feed had
   * when it was called is known. A sync already running may have asked before the change its
   * caller cares about, so a call during one waits for it and then runs one more, which every
   * call made meanwhile shares. A failure goes to onError and rejects; the cursor stays where
   * the last whole page left it.
   */
  sync(): Promise<void> {
    if (this.#inflight === undefined) return this.#run()
    this.#queued ??= this.#inflight
      .catch(() => {})
      .then(() => {
        this.#queued = undefined
        return this.#run()
      })
    return this.#queued
  }

  #run(): Promise<void> {
    // The feed is known to be complete as of when the sync started, not when it ended.
    const started = this.#now()
    const run = this.#sync().then(
      (complete) => {
        this.#inflight = undefined
        // A sync cut off by the page cap has not reached the feed's end: not up to date yet.
        if (complete) this.#lastSyncAt = started
      },
      (error: unknown) => {
        this.#inflight = undefined
        this.#options.onError?.(error)
        throw error
      },
    )
    this.#inflight = run
    return run
  }

  /** Reads the feed from the cursor on; true when it reached the end. */
  async #sync(): Promise<boolean> {
    const limit = this.#options.limit ?? 500
    let restarted = false
    for (let pages = 0; pages < MAX_PAGES_PER_SYNC; pages++) {
      let page: RevocationPage
      try {
        page = await this.#fetchPage(limit)
      } catch (error) {
        // A cursor the feed no longer takes (older than what it keeps, or from another
        // deployment) would fail every poll from now on. Reading again from the start of what
        // is kept is safe: applying an entry twice changes nothing.
        const refused = error instanceof LatchkeyError && error.status === 400
        if (!refused || this.#cursor === undefined || restarted) throw error
        this.#cursor = undefined
        restarted = true
        continue
      }
      for (const entry of page.revocations) this.#apply(entry)
      const moved = page.cursor !== this.#cursor
      this.#cursor = page.cursor
      if (page.revocations.length < limit || !moved) {
        this.#prune()
        return true
      }
    }
    this.#prune()
    return false
  }

  async #fetchPage(limit: number): Promise<RevocationPage> {
    const base = new URL(this.#options.url)
    const url = new URL('v1/revocations', base.href.endsWith('/') ? base : `${base.href}/`)
    if (this.#cursor !== undefined) url.searchParams.set('after', this.#cursor)
    url.searchParams.set('limit', String(limit))
    let res: Response
    try {
      res = await (this.#options.fetch ?? fetch)(url, {
        headers: { authorization: `Bearer ${this.#options.apiKey}`, accept: 'application/json' },
        signal: AbortSignal.timeout(Math.max(this.#options.interval, 10_000)),
      })
    } catch (cause) {
      throw new LatchkeyError('unexpected_response', 503, 'GET /v1/revocations: no answer', {
        cause,
      })
    }
    if (!res.ok) throw await problemOf(res, 'GET /v1/revocations')
    return pageOf(await res.json())
  }

  #apply(entry: Revocation): void {
    const at = timeOf(entry.at) ?? this.#now()
    // The first sync reads all the feed keeps (weeks): what #prune would drop at once is never
    // held, so memory stays within the bound while it runs too.
    if (at < this.#forgetBefore()) return
    if (typeof entry.session_id === 'string') {
      this.#ended.set(entry.session_id, at)
    }
    // A deleted user signs in never again under that id: everything of theirs is dead, whatever
    // rev the entry carries.
    const rev =
      entry.reason === 'deleted' && !entry.session_id ? Number.POSITIVE_INFINITY : entry.rev
    const known = this.#revs.get(entry.user_id)
    // `at` is when the rev last rose: a JWT below it was signed before then.
    if (known === undefined || rev > known.rev) this.#revs.set(entry.user_id, { rev, at })
  }

  #forgetBefore(): number {
    return this.#now() - this.#options.retention - PRUNE_MARGIN_MS
  }

  #prune(): void {
    const before = this.#forgetBefore()
    for (const [user, { at }] of this.#revs) if (at < before) this.#revs.delete(user)
    for (const [sid, at] of this.#ended) if (at < before) this.#ended.delete(sid)
  }
}

/** The page, checked whole before any of it is applied: a malformed feed fails the sync. */
function pageOf(body: unknown): RevocationPage {
  const page = body as Partial<RevocationPage> | null
  const bad = (why: string) =>
    new LatchkeyError('unexpected_response', 502, `GET /v1/revocations: ${why}`)
  if (!page || !Array.isArray(page.revocations) || typeof page.cursor !== 'string') {
    throw bad('not a page of the feed')
  }
  for (const entry of page.revocations as unknown[]) {
    const e = entry as Partial<Revocation> | null
    if (
      !e ||
      typeof e.user_id !== 'string' ||
      typeof e.rev !== 'number' ||
      !(e.rev >= 0) ||
      !(e.session_id === undefined || e.session_id === null || typeof e.session_id === 'string')
    ) {
      throw bad('an entry without user_id and rev')
    }
  }
  return page as RevocationPage
}

/** An entry's time in ms: numbers below 1e11 are seconds (1e11 s is the year 5138). */
function timeOf(at: unknown): number | undefined {
  if (typeof at === 'number' && Number.isFinite(at)) return at < 1e11 ? at * 1000 : at
  if (typeof at === 'string') {
    const ms = Date.parse(at)
    return Number.isNaN(ms) ? undefined : ms
  }
  return undefined
}
