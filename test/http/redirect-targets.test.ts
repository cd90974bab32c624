import { join } from 'node:path'
import type { LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import t from 'tap'
import { openSqliteStore } from '../../src/store/sqlite/index.js'
import { build, type TestApp } from '../helpers/app.js'
import { apiLink, assertProblem, postLink, postVerify } from '../helpers/http.js'
import {
  assertNoSession,
  assertSessionCookie,
  Browser,
  HEADINGS,
  heading,
  mailedLink,
  mustForm,
  nextIn,
  openAndConfirm,
  requestLink,
  tokenIn,
} from '../helpers/pages.js'
import { tempDir } from '../helpers/temp.js'

// A redirect target is parsed once and from then on bound, stored, carried and emitted in its
// ASCII spelling (DESIGN 13). Before, a non-ASCII `next` made Continue answer a 500 after the
// link was spent, and `/..//evil.example` was bound and emitted as given.

const ALLOWED = 'https://app.example.test'
const NIHON = '/日本'
const NIHON_ASCII = '/%E6%97%A5%E6%9C%AC'

let counter = 0
const freshEmail = (name = 'target') => `${name}-${++counter}@example.com`

const ascii = (t: Test, res: LightMyRequestResponse, what: string) =>
  t.match(String(res.headers.location), /^[\x21-\x7e]+$/, `${what}: Location is ASCII`)

/** The login form with `next`, the email, and the link it sent. */
async function mailed(h: TestApp, next: string) {
  const email = freshEmail()
  const b = new Browser(h.app)
  const sent = await requestLink(b, email, { next })
  if (sent.statusCode !== 200) throw new Error(`POST /login answered ${sent.statusCode}`)
  return { b, email, link: await mailedLink(h, email) }
}

t.test('hosted pages, cookie handoff', async (t) => {
  const h = await build(t)

  t.test('a non-ASCII next signs in and goes there, in ASCII', async (t) => {
    for (const [next, location] of [
      [NIHON, NIHON_ASCII],
      ['/über?q=ä#ö', '/%C3%BCber?q=%C3%A4#%C3%B6'],
      [NIHON_ASCII, NIHON_ASCII],
      [`${ALLOWED}/日本`, `${ALLOWED}${NIHON_ASCII}`],
    ] as [string, string][]) {
      const { b, link } = await mailed(h, next)
      t.equal(nextIn(link), location, `${next}: the link carries the ASCII spelling`)
      const confirm = mustForm((await b.get(link)).body, '/login/link')
      t.equal(confirm.next, location, `${next}: so does the form`)
      const res = await b.post('/login/link', confirm)
      t.equal(res.statusCode, 303, `${next}: 303, not a 500`)
      t.equal(res.headers.location, location, `${next}: to ${location}`)
      ascii(t, res, next)
      assertSessionCookie(t, res)
    }
  })

  t.test('the link as the old form wrote it (next unencoded) is the same link', async (t) => {
    const { b, link } = await mailed(h, NIHON)
    const raw = new URL(link)
    raw.searchParams.set('next', NIHON)
    const res = await openAndConfirm(b, raw.href)
    t.equal(res.statusCode, 303)
    t.equal(res.headers.location, NIHON_ASCII)
  })

  t.test('a refused target on the link or the form spends nothing', async (t) => {
    const { b, link } = await mailed(h, NIHON)
    const token = tokenIn(link)
    const { csrf = '' } = mustForm((await b.get('/login')).body, '/login')
    for (const next of ['/..//evil.example', '/.//evil.example', '//evil.example', '/\ud800']) {
      const what = JSON.stringify(next)
      const get = await b.get(`/login/link?${new URLSearchParams({ token, next })}`)
      t.equal(get.statusCode, 400, `GET ${what}: 400`)
      t.match(heading(get.body), HEADINGS.token_invalid, `GET ${what}: the link error page`)
      const post = await b.post('/login/link', { csrf, token, next })
      t.equal(post.statusCode, 400, `POST ${what}: 400`)
      t.match(post.headers['content-type'], /^text\/html/, `POST ${what}: a page`)
      t.match(heading(post.body), HEADINGS.token_invalid, `POST ${what}: the link error page`)
      t.notOk(post.headers.location, `POST ${what}: no redirect`)
      assertNoSession(t, post, `POST ${what}`)
    }
    const res = await openAndConfirm(b, link)
    t.equal(res.statusCode, 303, 'the link still works with its own target')
    t.equal(res.headers.location, NIHON_ASCII)
  })

  t.test('a next that normalises off-site never reaches a link', async (t) => {
    for (const next of ['/..//evil.example', '/.//evil.example', '/a/..//evil.example']) {
      const login = await new Browser(h.app).get(`/login?${new URLSearchParams({ next })}`)
      t.notOk('next' in mustForm(login.body, '/login'), `${next}: dropped from the form`)
      const { link } = await mailed(h, '/home').then(async ({ b }) => {
        const email = freshEmail('forged')
        await requestLink(b, email, { post: { next } })
        return { link: await mailedLink(h, email) }
      })
      t.equal(nextIn(link), undefined, `${next}: forged into the post, the link binds none`)
    }
  })
})

t.test('hosted pages, code handoff: the code joins the ASCII target', async (t) => {
  const h = await build(t, { env: { HANDOFF: 'code' } })
  const { b, link } = await mailed(h, `${ALLOWED}/日本?x=ü`)
  const res = await openAndConfirm(b, link)
  t.equal(res.statusCode, 303)
  ascii(t, res, 'code handoff')
  const location = new URL(String(res.headers.location))
  t.equal(`${location.origin}${location.pathname}`, `${ALLOWED}${NIHON_ASCII}`)
  t.equal(location.searchParams.get('x'), 'ü')
  t.ok(location.searchParams.get('code'), 'with the code')
})

t.test('API: targets are bound and answered in ASCII, either spelling verifies', async (t) => {
  const h = await build(t)
  const email = freshEmail('api')
  for (const issued of [NIHON, NIHON_ASCII, NIHON_ASCII.toLowerCase()]) {
    const { token, link } = await apiLink(h.app, { email, redirect_to: issued })
    t.equal(nextIn(link), NIHON_ASCII, `issued for ${issued}: the link carries the ASCII`)
    for (const presented of [NIHON, NIHON_ASCII, '/%e6%97%a5%e6%9c%ac']) {
      const res = await postVerify(h.app, { token, redirect_to: presented, consume: false })
      t.equal(res.statusCode, 200, `issued ${issued}, presented ${presented}: verifies`)
      t.equal(res.json().redirect_to, NIHON_ASCII, 'answered in ASCII')
    }
  }
})

t.test('API: a target that normalises off-site is refused when issued', async (t) => {
  const h = await build(t)
  for (const target of [
    '/..//evil.example',
    '/.//evil.example',
    '/a/../..//evil.example',
    '/%2e%2e//evil.example',
    'https://:@app.example.test/',
  ]) {
    for (const deliver of ['none', 'email']) {
      const res = await postLink(h.app, { email: freshEmail(), redirect_to: target, deliver })
      assertProblem(t, res, 400, 'invalid_request')
    }
  }
  t.equal(h.mail.length, 0, 'nothing was sent')
})

t.test('API: a refused target presented at verify spends nothing', async (t) => {
  const h = await build(t)
  const { token } = await apiLink(h.app, { email: freshEmail(), redirect_to: NIHON })
  for (const redirect_to of ['/..//evil.example', '/.//evil.example', '//evil.example', ' /']) {
    const res = await postVerify(h.app, { token, redirect_to })
    assertProblem(t, res, 401, 'token_invalid')
  }
  const res = await postVerify(h.app, { token, redirect_to: NIHON })
  t.equal(res.statusCode, 200, 'the link still works')
  t.ok(res.json().session, 'and signs in')
})

t.test('the outbox sends what it holds in the spelling verifiers compare', async (t) => {
  const dataDir = tempDir(t)
  const store = openSqliteStore(join(dataDir, 'latchkey.db'))
  t.teardown(() => store.close())
  const h = await build(t, { dataDir, overrides: { store } })
  const email = freshEmail('outbox')
  // A row as a release that bound the target as typed left it.
  const user = (await store.findOrCreate(email, h.clock.ms)).user
  const row = {
    purpose: 1,
    flags: 1,
    expiresAt: h.clock.ms / 1000 + 600,
    rev: 0,
    seq: 0,
    ttlSeconds: 600,
  }
  await store.enqueue({
    kind: 'email',
    userId: user.id,
    recipient: email,
    payload: { ...row, redirect: NIHON },
    now: h.clock.ms,
  })
  const link = await mailedLink(h, email)
  t.equal(nextIn(link), NIHON_ASCII, 'the link binds the ASCII spelling')
  const res = await postVerify(h.app, { token: tokenIn(link), redirect_to: nextIn(link) })
  t.equal(res.statusCode, 200, 'and verifies')

  const dropped = freshEmail('dropped')
  const other = (await store.findOrCreate(dropped, h.clock.ms)).user
  const before = h.mail.length
  await store.enqueue({
    kind: 'email',
    userId: other.id,
    recipient: dropped,
    payload: { ...row, redirect: '/..//evil.example' },
    now: h.clock.ms,
  })
  await h.app.outbox.runOnce()
  t.equal(h.mail.length, before, 'a target refused now is not sent')
  const [message] = await store.listOutbox({ userId: other.id, limit: 1 })
  t.equal(message?.status, 'failed')
  t.equal(message?.lastError, 'the redirect target is no longer allowed')
})
