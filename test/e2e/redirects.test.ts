import t, { type Test } from 'tap'
import {
  forgeNext,
  isLoopback,
  launchChromium,
  newTab,
  press,
  requestLink,
  startPair,
  type Tab,
} from './helpers.js'

// Open redirects, tried the ways an attacker can: a `next` on the form's URL, a `next` forged
// into the form post, a `next` swapped into the emailed link or into the confirm form. Whatever
// happens, the browser ends on latchkey or on the one allowed application, and no request
// leaves loopback (the browser refuses any, and the test says so).

const [browser, cookieMode, codeMode] = await Promise.all([
  launchChromium(),
  startPair(t, 'cookie'),
  startPair(t, 'code'),
])
// One browser profile per service for the whole file: a fresh profile costs a renderer process,
// and nothing here needs a clean one (each attempt uses an address of its own).
const cookieTab = await newTab(browser)
const codeTab = await newTab(browser)
t.teardown(() => browser.close())

type Pair = typeof codeMode

const appPort = new URL(codeMode.target.url).port

const ATTEMPTS = [
  '//evil.example',
  '/\\evil.example',
  'https:evil.example',
  'javascript:alert(1)',
  `http://user@localhost:${cookieMode.latchkey.port}`,
  `http://user:pass@localhost:${appPort}/callback`,
  `${codeMode.target.url}@evil.example/callback`,
  'https://evil.example/callback',
  // The allowed application by address: an origin other than the one listed, and reachable, so
  // following it would really land there.
  `http://127.0.0.1:${appPort}/callback`,
]

const heading = (tab: Tab, name: string) => tab.page.getByRole('heading', { name })

/** Nothing this browser asked for, redirects included, went anywhere but loopback. */
function stayedHome(t: Test, tab: Tab, { latchkey, target }: Pair): void {
  const away = tab.requests.filter((r) => !isLoopback(new URL(r.url).hostname))
  t.same(away, [], 'no request left loopback')
  const { origin } = new URL(tab.page.url())
  t.ok(
    [latchkey.url, target.url].includes(origin),
    `the page is on latchkey or the app (${origin})`,
  )
}

/** Opens a link, presses Continue, and waits for where the sign-in ends. */
async function signIn(t: Test, tab: Tab, { latchkey, target }: Pair, link: string): Promise<void> {
  await tab.page.goto(link)
  await heading(tab, 'Sign in to latchkey').waitFor()
  const { location } = (await press(tab, 'Continue')).headers()
  if (location !== undefined) {
    const { origin } = new URL(location, latchkey.url)
    t.ok([latchkey.url, target.url].includes(origin), 'redirected to an allowed origin only')
  }
  await tab.page.waitForLoadState('load')
}

for (const [i, attempt] of ATTEMPTS.entries()) {
  t.test(`next=${attempt}`, async (t) => {
    // On the form's URL (cookie handoff): the form drops it, the link carries none, and the
    // person is signed in on latchkey itself.
    const link = await requestLink(
      cookieTab,
      cookieMode.latchkey,
      `query-${i}@example.com`,
      attempt,
    )
    t.notOk(new URL(link).searchParams.has('next'), 'the emailed link carries no target')
    await signIn(t, cookieTab, cookieMode, link)
    await heading(cookieTab, 'You’re signed in').waitFor()
    stayedHome(t, cookieTab, cookieMode)

    // Forged into the form post (code handoff): dropped the same way, so this link has no target
    // either (what the code handoff does with such a link is the next test).
    const email = `forged-${i}@example.com`
    const forgery = { forge: attempt }
    const forged = await requestLink(codeTab, codeMode.latchkey, email, undefined, forgery)
    t.notOk(new URL(forged).searchParams.has('next'), 'the emailed link carries no target')
    stayedHome(t, codeTab, codeMode)
    t.same(codeMode.target.hits, [], 'the application was never reached')
  })
}

t.test('a link without a target takes no other, and the code handoff sends no code', async (t) => {
  const me = codeTab
  const link = await requestLink(me, codeMode.latchkey, 'no-target@example.com', ATTEMPTS[0])
  t.notOk(new URL(link).searchParams.has('next'), 'the emailed link carries no target')
  // Swapped into the emailed link: a link that binds no target accepts none.
  for (const attempt of [ATTEMPTS[0] ?? '', `http://127.0.0.1:${appPort}/callback`]) {
    const swapped = new URL(link)
    swapped.searchParams.set('next', attempt)
    await me.page.goto(swapped.href)
    await heading(me, 'This link doesn’t work').waitFor()
    t.equal(await me.page.getByRole('button', { name: 'Continue' }).count(), 0, 'no way on')
    stayedHome(t, me, codeMode)
  }
  // The code handoff has nobody to hand a code to, and says so.
  await signIn(t, me, codeMode, link)
  await heading(me, 'Request blocked').waitFor()
  t.notOk(new URL(me.page.url()).searchParams.has('code'), 'no code was handed out')
  stayedHome(t, me, codeMode)
  t.same(codeMode.target.hits, [], 'the application was never reached')
})

t.test('a link to the allowed app cannot be pointed elsewhere, and still works', async (t) => {
  const { latchkey, target } = codeMode
  const me = codeTab
  const link = await requestLink(me, latchkey, 'legit@example.com', `${target.url}/callback`)
  for (const attempt of ATTEMPTS) {
    // In the link's URL: the confirm page refuses it.
    const swapped = new URL(link)
    swapped.searchParams.set('next', attempt)
    await me.page.goto(swapped.href)
    await heading(me, 'This link doesn’t work').waitFor()
    stayedHome(t, me, codeMode)
  }
  // In the confirm page's form: the confirm post refuses it and uses nothing up. (The post checks
  // `next` against the link's MAC whatever it holds: two attempts stand for all.)
  for (const attempt of ['//evil.example', `http://127.0.0.1:${appPort}/callback`]) {
    await me.page.goto(link)
    await forgeNext(me, attempt)
    await press(me, 'Continue')
    await heading(me, 'This link doesn’t work').waitFor()
    stayedHome(t, me, codeMode)
  }
  await signIn(t, me, codeMode, link)
  await heading(me, 'Signed in as legit@example.com').waitFor()
  t.equal(new URL(me.page.url()).origin, target.url, 'the genuine link lands at the app')
  stayedHome(t, me, codeMode)
})

t.test('a non-ASCII target signs in and lands there, sent in ASCII', async (t) => {
  const { latchkey, target } = cookieMode
  for (const [i, [path, ascii]] of (
    [
      ['/日本', '/%E6%97%A5%E6%9C%AC'],
      ['/über?q=ä', '/%C3%BCber?q=%C3%A4'],
    ] as [string, string][]
  ).entries()) {
    const me = await newTab(browser)
    t.teardown(() => me.context.close())
    const link = await requestLink(me, latchkey, `unicode-${i}@example.com`, `${target.url}${path}`)
    t.equal(new URL(link).searchParams.get('next'), `${target.url}${ascii}`, `${path}: bound`)
    await me.page.goto(link)
    await heading(me, 'Sign in to latchkey').waitFor()
    const answer = await press(me, 'Continue')
    t.equal(answer.status(), 303, `${path}: 303, not a 500`)
    t.equal(answer.headers().location, `${target.url}${ascii}`, `${path}: ASCII Location`)
    await heading(me, `Received ${ascii}`).waitFor()
    t.ok(target.hits.includes(ascii), `${path}: the application got the request`)
    stayedHome(t, me, cookieMode)
  }
})
