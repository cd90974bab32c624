import { Counter, type Registry } from 'prom-client'
import type {
  LimitName,
  Observer,
  VerifyMode,
  VerifyOutcome,
  ViewMethod,
} from '../auth/observer.js'
import type { UaFamily } from '../auth/user-agent.js'
import type { DeliveryState } from '../outbox/observer.js'
import type { EndReason } from '../store/sessions.js'

/**
 * The use cases' Observer as Prometheus counters. Every label value is one of the few words
 * the port's types allow (a job kind is a name from the code), so the number of series is fixed
 * and none can name a person, an address or a token.
 */
export class PrometheusObserver implements Observer {
  readonly #links: Counter<'purpose' | 'delivery'>
  readonly #verifications: Counter<'mode' | 'outcome'>
  readonly #views: Counter<'method' | 'cookie' | 'ua_family'>
  readonly #created: Counter
  readonly #refreshed: Counter
  readonly #ended: Counter<'reason'>
  readonly #limited: Counter<'limit'>
  readonly #deliveries: Counter<'kind' | 'state'>
  readonly #codes: Counter<'outcome'>

  constructor(registry: Registry) {
    const registers = [registry]
    this.#links = new Counter({
      name: 'latchkey_links_issued_total',
      help: 'Links issued, by purpose (login, access) and delivery (queued for email, none).',
      labelNames: ['purpose', 'delivery'],
      registers,
    })
    this.#verifications = new Counter({
      name: 'latchkey_link_verifications_total',
      help: 'Link verifications by mode (check: looked only; use: spent) and outcome (ok or the error code; forgeries are token_invalid).',
      labelNames: ['mode', 'outcome'],
      registers,
    })
    this.#views = new Counter({
      name: 'latchkey_link_views_total',
      help: 'Link pages opened (GET, HEAD) for links whose MAC passed, by whether the binding cookie was there (true, false) and user-agent family (none, scanner, chrome, firefox, safari, edge, other). Forgeries count only as verifications (token_invalid).',
      labelNames: ['method', 'cookie', 'ua_family'],
      registers,
    })
    this.#created = new Counter({
      name: 'latchkey_sessions_created_total',
      help: 'Sessions opened (a login link, an exchange code or a sign-in code used).',
      registers,
    })
    this.#refreshed = new Counter({
      name: 'latchkey_sessions_refreshed_total',
      help: 'Session refreshes that rotated the refresh token.',
      registers,
    })
    this.#ended = new Counter({
      name: 'latchkey_sessions_ended_total',
      help: 'Sessions ended, by reason (logout, revoked, refresh_reused, admin, disabled, reported).',
      labelNames: ['reason'],
      registers,
    })
    this.#limited = new Counter({
      name: 'latchkey_rate_limited_total',
      help: 'Requests refused past a rate limit, by limit (ip, api_key, recipient, form_ip, code).',
      labelNames: ['limit'],
      registers,
    })
    this.#deliveries = new Counter({
      name: 'latchkey_outbox_deliveries_total',
      help: 'Outbox delivery attempts by job kind (email) and state (sent, retried, failed, suppressed).',
      labelNames: ['kind', 'state'],
      registers,
    })
    this.#codes = new Counter({
      name: 'latchkey_code_verifications_total',
      help: 'Sign-in codes checked within the guess budget, by outcome (ok, code_invalid); attempts past it count as rate_limited{limit="code"}.',
      labelNames: ['outcome'],
      registers,
    })
  }

  linkIssued(purpose: 'login' | 'access', delivery: 'queued' | 'none'): void {
    this.#links.inc({ purpose, delivery })
  }

  verified(mode: VerifyMode, outcome: VerifyOutcome): void {
    this.#verifications.inc({ mode, outcome })
  }

  linkViewed(method: ViewMethod, cookie: boolean, family: UaFamily): void {
    this.#views.inc({ method, cookie: String(cookie), ua_family: family })
  }

  sessionCreated(): void {
    this.#created.inc()
  }

  sessionRefreshed(): void {
    this.#refreshed.inc()
  }

  sessionsEnded(reason: EndReason, count: number): void {
    if (count > 0) this.#ended.inc({ reason }, count)
  }

  rateLimited(limit: LimitName): void {
    this.#limited.inc({ limit })
  }

  codeVerified(outcome: 'ok' | 'code_invalid'): void {
    this.#codes.inc({ outcome })
  }

  delivered(kind: string, state: DeliveryState): void {
    this.#deliveries.inc({ kind, state })
  }
}
