import type { Test } from 'tap'
import type { Env } from '../../src/config/index.js'
import type { App } from '../../src/http/types.js'
import { CODE_ALPHABET } from '../../src/tokens/code.js'
import { asService, build, type TestApp, type TestAppOptions } from './app.js'
import { postLink } from './http.js'
import { createDatabase } from './postgres.js'

/** Sign-in codes as a test meets them: in the mail, at POST /v1/codes/verify. */

export type StoreKind = 'sqlite' | 'postgres'

/** A test app on `store`: its own SQLite file, or a database of its own on the test server. */
export async function onStore(
  t: Test,
  store: StoreKind,
  env: Env = {},
  options: TestAppOptions = {},
): Promise<TestApp> {
  if (store === 'sqlite') return build(t, { ...options, env })
  const db = await createDatabase('latchkey_codes')
  t.teardown(() => db.drop())
  return build(t, { ...options, env: { DATABASE_URL: db.url, DATABASE_POOL_SIZE: '8', ...env } })
}

const CODE_IN_TEXT = new RegExp(
  `enter this code[^:]*: ([${CODE_ALPHABET}]{4}-[${CODE_ALPHABET}]{4})`,
)

/** The code in a message's text part, or undefined when it has none. */
export const codeInText = (text: string) => CODE_IN_TEXT.exec(text)?.[1]

/** Sends the outbox; the code of the last message to `to` (throws when there is none). */
export async function mailedCode(h: TestApp, to: string): Promise<string> {
  await h.app.outbox.runOnce()
  const message = h.mail.findLast((m) => m.to === to)
  if (!message) throw new Error(`no mail to ${to}`)
  const code = codeInText(message.text)
  if (!code) throw new Error('no code in the mail')
  return code
}

/** POST /v1/links by email (delivered by email): a code on its way; throws unless 202. */
export async function emailLink(app: App, email: string, extra: Record<string, unknown> = {}) {
  const res = await postLink(app, { email, ...extra })
  if (res.statusCode !== 202) throw new Error(`issue failed: ${res.statusCode} ${res.body}`)
  return res.json() as { user_id: string; expires_at: number }
}

/** POST /v1/codes/verify: the raw answer. */
export const postCode = (
  app: App,
  payload: Record<string, unknown>,
  headers: Record<string, string> = asService,
) => app.inject({ method: 'POST', url: '/v1/codes/verify', headers, payload })

/** A code that is not `code` (the next symbol in its last place). */
export function otherCode(code: string): string {
  const last = code.at(-1) as string
  const next = CODE_ALPHABET[(CODE_ALPHABET.indexOf(last) + 1) % CODE_ALPHABET.length]
  return `${code.slice(0, -1)}${next}`
}
