import { duration } from '../config/parsers.js'
import { InvalidRequest } from '../errors.js'
import type { AuditEvent } from '../store/audit.js'
import type { AuthDeps } from './deps.js'
import { emailDomain } from './inbox.js'

/** One recipient domain's links since `since` (definitions: README, "Scanner telemetry"). */
export interface DomainLinkViews {
  domain: string
  /** Sign-in emails sent (outbox kind email, status sent), one per link. */
  linksIssued: number
  /** Of those, links with at least one link.viewed. */
  linksOpened: number
  /** Used links with a view before the person's own view. */
  openedBeforePerson: number
  /** Opened, never used, and no view carried the binding cookie. */
  openedOnlyWithoutCookie: number
  /** Links with a link.verified. */
  used: number
  /** Over opened links: seconds from the email to the first view; null when none was opened. */
  medianSecondsToFirstView: number | null
}

export interface LinkViewStats {
  /** Milliseconds since the Unix epoch. */
  since: number
  until: number
  /** Most links issued first. */
  domains: DomainLinkViews[]
  /** True when a bound on the rows read was reached: the counts then cover fewer links. */
  truncated: boolean
}

/** The window when none is asked for. */
export const DEFAULT_SINCE = '7d'

/** At most this many rows are read of each of the outbox and the audit trail's two types. */
export const MAX_ROWS = 100_000
const PAGE = 1000

/** How much is read: at most `maxRows` of each listing, `page` at a time. */
export interface Bounds {
  maxRows: number
  page: number
}

/**
 * Scanner telemetry, summarised per recipient domain: how many links were sent, how many were
 * opened, and by what. A link is named, across the outbox and the audit trail, by its user and
 * its expiry (both in the token, so neither verify nor view needs a lookup to record them).
 *
 * Computed here from the stores' ordinary listings, newest first, paged by their cursors: an
 * operator's occasional question, not a hot path. The read is bounded (MAX_ROWS per listing);
 * `truncated` says when a bound cut the window short, so nobody mistakes a partial answer for a
 * whole one.
 */
export async function linkViewStats(
  deps: Pick<AuthDeps, 'store' | 'clock'>,
  query: { since?: string | undefined },
  bounds: Bounds = { maxRows: MAX_ROWS, page: PAGE },
): Promise<LinkViewStats> {
  const until = deps.clock()
  const since = parseSince(query.since ?? DEFAULT_SINCE, until)
  const emails = await sentEmails(deps, since, bounds)
  const views = await events(deps, 'link.viewed', since, bounds)
  const verified = await events(deps, 'link.verified', since, bounds)

  const links = new Map<string, Link>()
  for (const email of emails.rows) {
    const key = linkKey(email.userId, email.expiresAt)
    const known = links.get(key)
    if (known) known.issuedAt = Math.min(known.issuedAt, email.createdAt)
    else links.set(key, { domain: email.domain, issuedAt: email.createdAt, views: [] })
  }
  // Oldest first, so "first view" and "before" read in order.
  for (const event of views.rows.toReversed()) {
    links.get(eventKey(event))?.views.push(event)
  }
  for (const event of verified.rows.toReversed()) {
    const link = links.get(eventKey(event))
    if (link && link.usedAt === undefined) link.usedAt = event.at
  }

  const domains = new Map<string, Tally>()
  for (const link of links.values()) {
    let tally = domains.get(link.domain)
    if (!tally) {
      tally = { issued: 0, opened: 0, beforePerson: 0, withoutCookie: 0, used: 0, delays: [] }
      domains.set(link.domain, tally)
    }
    count(tally, link)
  }
  return {
    since,
    until,
    domains: [...domains]
      .map(([domain, tally]) => summary(domain, tally))
      .sort((a, b) => b.linksIssued - a.linksIssued || a.domain.localeCompare(b.domain)),
    truncated: emails.truncated || views.truncated || verified.truncated,
  }
}

/**
 * `since` as a time (ISO 8601, with a date at least) or as a duration back from now (`7d`,
 * `24h`, `30m`, `45s`). Anything else, or a time in the future, is the caller's mistake (400).
 */
const MAX_BACK_SECONDS = 36_500 * 86_400

export function parseSince(value: string, now: number): number {
  const back = duration(value)
  if (!Number.isNaN(back)) {
    // Nothing is kept longer than the audit trail (AUDIT_RETENTION, days to months): a window of
    // centuries asks for nothing more, and one past the calendar's end has no time to answer with.
    if (back > MAX_BACK_SECONDS) {
      throw new InvalidRequest('since must be a duration of at most 36500 days (100 years).')
    }
    return now - back * 1000
  }
  const at = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)
    ? Date.parse(value)
    : Number.NaN
  if (Number.isNaN(at)) {
    throw new InvalidRequest(
      'since must be an ISO 8601 time (2026-01-31T00:00:00Z) or a duration (7d, 24h, 30m).',
    )
  }
  if (at > now) throw new InvalidRequest('since must not be in the future.')
  return at
}

interface Link {
  domain: string
  issuedAt: number
  /** Oldest first. */
  views: AuditEvent[]
  usedAt?: number
}

interface Tally {
  issued: number
  opened: number
  beforePerson: number
  withoutCookie: number
  used: number
  /** Seconds from the email to the first view, one per opened link. */
  delays: number[]
}

function count(tally: Tally, link: Link): void {
  tally.issued++
  if (link.usedAt !== undefined) tally.used++
  const [first] = link.views
  if (!first) return
  tally.opened++
  tally.delays.push(Math.max(0, (first.at - link.issuedAt) / 1000))
  if (link.usedAt === undefined) {
    if (link.views.every((view) => view.detail.cookie !== true)) tally.withoutCookie++
    return
  }
  // The person's own view: the first with the binding cookie (their browser), else the last
  // one before the link was used (the page whose button they pressed). Anything earlier was
  // something else: a scanner, a preview, another device.
  const usedAt = link.usedAt
  const withCookie = link.views.findIndex((view) => view.detail.cookie === true)
  const mine = withCookie >= 0 ? withCookie : link.views.findLastIndex((view) => view.at <= usedAt)
  if (mine > 0) tally.beforePerson++
}

function summary(domain: string, tally: Tally): DomainLinkViews {
  return {
    domain,
    linksIssued: tally.issued,
    linksOpened: tally.opened,
    openedBeforePerson: tally.beforePerson,
    openedOnlyWithoutCookie: tally.withoutCookie,
    used: tally.used,
    medianSecondsToFirstView: median(tally.delays),
  }
}

function median(values: number[]): number | null {
  if (values.length === 0) return null
  const sorted = values.toSorted((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  const value =
    sorted.length % 2 === 1
      ? (sorted[middle] as number)
      : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
  return Math.round(value * 10) / 10
}

const linkKey = (userId: string, expiresAt: unknown) => `${userId} ${String(expiresAt)}`
const eventKey = (event: AuditEvent) => linkKey(event.userId ?? '', event.detail.expires_at)

interface SentEmail {
  userId: string
  expiresAt: number
  domain: string
  createdAt: number
}

/** The sent sign-in emails created since `since`, newest first, at most MAX_ROWS read. */
async function sentEmails(
  deps: Pick<AuthDeps, 'store'>,
  since: number,
  { maxRows, page: size }: Bounds,
): Promise<{ rows: SentEmail[]; truncated: boolean }> {
  const rows: SentEmail[] = []
  let before: string | undefined
  for (let read = 0; read < maxRows; ) {
    const limit = Math.min(size, maxRows - read)
    const page = await deps.store.listOutbox({ kind: 'email', status: 'sent', before, limit })
    read += page.length
    for (const message of page) {
      const expiresAt = (message.payload as { expiresAt?: unknown } | null)?.expiresAt
      if (message.createdAt < since || message.userId === null) continue
      if (typeof expiresAt !== 'number') continue
      rows.push({
        userId: message.userId,
        expiresAt,
        domain: emailDomain(message.recipient),
        createdAt: message.createdAt,
      })
    }
    const last = page.at(-1)
    if (!last || page.length < limit || last.createdAt < since) return { rows, truncated: false }
    before = last.id
  }
  return { rows, truncated: true }
}

/** The events of one type recorded since `since`, newest first, at most MAX_ROWS read. */
async function events(
  deps: Pick<AuthDeps, 'store'>,
  type: 'link.viewed' | 'link.verified',
  since: number,
  { maxRows, page: size }: Bounds,
): Promise<{ rows: AuditEvent[]; truncated: boolean }> {
  const rows: AuditEvent[] = []
  let before: string | undefined
  for (let read = 0; read < maxRows; ) {
    const limit = Math.min(size, maxRows - read)
    const page = await deps.store.listEvents({ type, before, limit })
    read += page.length
    rows.push(...page.filter((event) => event.at >= since))
    const last = page.at(-1)
    if (!last || page.length < limit || last.at < since) return { rows, truncated: false }
    before = last.id
  }
  return { rows, truncated: true }
}
