import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import t from 'tap'
import {
  LINK_ERROR_REASONS,
  type LinkErrorReason,
  type Page,
  type PageBase,
  STYLESHEET_PATH,
} from '../../src/http/pages/render.js'
import { CATALOGUES, translator } from '../../src/mail/locales/index.js'
import { count, escapeXml, unescapeXml } from '../helpers/html.js'
import { renderPage, stylesheet } from '../helpers/shipped.js'

const APP = '<script>alert(1)</script>'
const CSRF = 'csrf"><script>x</script>'
const EMAIL = 'a"b<i>@example.com'
const NEXT = '/app?x="><script>alert(1)</script>'
const TOKEN = `tok"en'<>&`
const MASKED = 'a•••@ex"<ample.com'
const MESSAGE = 'Refused <b>"now"</b>'

// The catalogue is a source of text like any other (TEMPLATES_DIR overrides it): hostile too.
const HOSTILE_WORDS = translator('en', {
  ...CATALOGUES.en,
  'forbidden.crossSite': MESSAGE,
  'login.invalidEmail': 'Bad <address> "here"',
  'sent.wrongCode': 'Nope <b>',
})
const hostile: PageBase = { appName: APP, csrf: CSRF, translator: HOSTILE_WORDS }
const english = translator('en', CATALOGUES.en)

const REASONS: readonly LinkErrorReason[] = LINK_ERROR_REASONS

/** One of each page, every value hostile. */
const PAGES: Page[] = [
  { name: 'login', next: NEXT, email: EMAIL, error: 'login.invalidEmail' },
  { name: 'sent', email: EMAIL, next: NEXT },
  { name: 'sent', email: EMAIL, next: NEXT, codeError: 'sent.wrongCode' },
  { name: 'confirm', maskedEmail: MASKED, token: TOKEN, next: NEXT },
  { name: 'elsewhere', maskedEmail: MASKED, token: TOKEN, next: NEXT },
  { name: 'signed-in', email: EMAIL },
  { name: 'logout', next: NEXT },
  ...REASONS.map((reason): Page => ({ name: 'link-error', reason, next: NEXT })),
  { name: 'forbidden', message: 'forbidden.crossSite' },
  { name: 'rate-limited', limit: 'recipient', retryAfterSeconds: 900, next: NEXT },
  { name: 'rate-limited', limit: 'ip', retryAfterSeconds: 42 },
  { name: 'rate-limited', limit: 'form', retryAfterSeconds: 900, next: NEXT },
  { name: 'rate-limited', limit: 'code', retryAfterSeconds: 900, next: NEXT },
  { name: 'unavailable', next: NEXT },
  { name: 'link-error', reason: 'token_expired', next: NEXT, resend: { token: TOKEN, next: NEXT } },
  { name: 'report', maskedEmail: MASKED, token: TOKEN },
  { name: 'reported', maskedEmail: MASKED, endedSessions: false },
  { name: 'reported', maskedEmail: MASKED, endedSessions: true },
]

const render = (page: Page, base: PageBase = hostile) => renderPage({ ...page, ...base })

interface Form {
  attributes: string
  body: string
  /** name → value (unescaped) of the hidden inputs, in order. */
  hidden: [string, string][]
}

function forms(html: string): Form[] {
  return [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)].map((m) => {
    const body = m[2] ?? ''
    const hidden = [...body.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map(
      (h): [string, string] => [h[1] ?? '', unescapeXml(h[2] ?? '')],
    )
    return { attributes: m[1] ?? '', body, hidden }
  })
}

const hiddenNames = (form: Form) => form.hidden.map(([name]) => name)
const hiddenValue = (form: Form, name: string) => form.hidden.find(([n]) => n === name)?.[1]

t.test(
  'every page escapes every value, and carries no script, inline style or handler',
  async (t) => {
    for (const page of PAGES) {
      const html = render(page)
      const label = page.name === 'link-error' ? `link-error ${page.reason}` : page.name
      t.notMatch(html, /<script/i, `${label}: no <script>`)
      t.notMatch(html, /\sstyle=/i, `${label}: no style attribute`)
      t.notMatch(html, /<style/i, `${label}: no <style> element`)
      t.notMatch(html, /\son[a-z]+=/i, `${label}: no event handler attribute`)
      t.notMatch(html, /javascript:/i, `${label}: no javascript: URL`)
      t.notMatch(
        html,
        /(src|href|action)="(https?:)?\/\//i,
        `${label}: nothing from another origin`,
      )
      t.ok(html.includes(escapeXml(APP)), `${label}: the app name, escaped`)
      t.notOk(html.includes('"><script>'), `${label}: no value closes an attribute`)
      for (const form of forms(html)) {
        t.equal(hiddenValue(form, 'csrf'), CSRF, `${label}: the csrf value survives, intact`)
      }
    }
  },
)

t.test('the values each page shows, escaped and intact', async (t) => {
  const login = render(PAGES[0] as Page)
  t.ok(login.includes(`value="${escapeXml(EMAIL)}"`), 'login: the typed address is kept')
  t.ok(login.includes(escapeXml('Bad <address> "here"')), 'login: the error')

  const sent = render({ name: 'sent', email: EMAIL, next: NEXT })
  t.ok(sent.includes(escapeXml(EMAIL)), 'sent: the address')
  const href = sent.match(/<a href="([^"]*)">Use another address<\/a>/)?.[1]
  t.ok(href, 'sent: a link to use another address')
  const url = new URL(unescapeXml(href ?? ''), 'https://login.example')
  t.equal(url.pathname, '/login')
  t.equal(url.searchParams.get('next'), NEXT, 'sent: it keeps the target')
  t.match(render({ name: 'sent', email: EMAIL }), /<a href="\/login">Use another address<\/a>/)

  for (const name of ['confirm', 'elsewhere'] as const) {
    const html = render({ name, maskedEmail: MASKED, token: TOKEN, next: NEXT })
    t.ok(html.includes(escapeXml(MASKED)), `${name}: the masked address`)
  }
  t.ok(render({ name: 'signed-in', email: EMAIL }).includes(escapeXml(EMAIL)), 'signed-in')
  t.ok(
    render({ name: 'forbidden', message: 'forbidden.crossSite' }).includes(escapeXml(MESSAGE)),
    'forbidden',
  )
})

t.test('one document shape for every page', async (t) => {
  const titles: Record<Page['name'], string> = {
    login: 'Sign in',
    sent: 'Check your email',
    confirm: 'Confirm sign-in',
    elsewhere: 'Sign in on this device?',
    'signed-in': 'Signed in',
    logout: 'Sign out',
    'link-error': 'This link has expired',
    forbidden: 'Request blocked',
    'rate-limited': 'Too many sign-in emails',
    unavailable: 'Sign-in is unavailable',
    report: 'Didn’t ask to sign in?',
    reported: 'Sign-in emails paused',
  }
  for (const page of PAGES) {
    const html = render(page, { appName: 'Acme', csrf: 'c', translator: english })
    const label = page.name === 'link-error' ? `link-error ${page.reason}` : page.name
    t.match(html, /^<!doctype html>\n<html lang="en"/, `${label}: doctype and language`)
    t.match(html, /<meta charset="utf-8">/)
    t.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/)
    t.match(html, /<meta name="referrer" content="no-referrer">/)
    t.match(html, /<meta name="color-scheme" content="light dark">/)
    t.equal(
      count(html, '<link rel="stylesheet"'),
      1,
      `${label}: one stylesheet, ours: ${STYLESHEET_PATH}`,
    )
    t.ok(html.includes(`<link rel="stylesheet" href="${STYLESHEET_PATH}">`))
    t.equal(count(html, '<h1'), 1, `${label}: a single <h1>`)
    t.equal(count(html, '<main'), 1, `${label}: one main landmark`)
    for (const form of forms(html)) {
      t.match(form.body, /<button type="submit"[^>]*>[^<]+<\/button>/, `${label}: a real button`)
    }
    const titled =
      page.name === 'link-error'
        ? page.reason === 'token_expired'
        : page.name !== 'rate-limited' || (page.limit !== 'ip' && page.limit !== 'code')
    if (titled) {
      t.ok(html.includes(`<title>${titles[page.name]} — Acme</title>`), `${label}: its title`)
    }
  }
})

t.test('link-error with recovery: "Email me a new link" posts the token, hidden', async (t) => {
  const html = render({
    name: 'link-error',
    reason: 'token_used',
    next: NEXT,
    resend: { token: TOKEN, next: NEXT },
  })
  const [resend, other, ...rest] = forms(html)
  t.equal(rest.length, 0, 'two forms')
  t.match(resend?.attributes, /action="\/login\/resend"/, 'the first is the one-click recovery')
  t.same(hiddenNames(resend as Form), ['csrf', 'token', 'next'])
  t.equal(hiddenValue(resend as Form, 'token'), TOKEN, 'the token, intact, in a hidden field')
  t.equal(hiddenValue(resend as Form, 'next'), NEXT)
  t.match(resend?.body, />Email me a new link<\/button>/)
  t.match(other?.attributes, /action="\/login"/, 'another address stays the second option')
  t.equal(
    html.split(escapeXml(TOKEN)).length - 1,
    1,
    'the token appears once: in the hidden field, never as text',
  )
  const bare = forms(
    render({ name: 'link-error', reason: 'token_expired', resend: { token: 't' } }),
  )
  t.same(hiddenNames(bare[0] as Form), ['csrf', 'token'], 'no next unless the link had one')
})

t.test('report: two separate forms; only the second ends sessions', async (t) => {
  const html = render({ name: 'report', maskedEmail: MASKED, token: TOKEN })
  const [stop, signOut, ...rest] = forms(html)
  t.equal(rest.length, 0, 'two forms')
  for (const form of [stop, signOut] as Form[]) {
    t.match(form.attributes, /method="post"/)
    t.match(form.attributes, /action="\/login\/report"/)
    t.equal(hiddenValue(form, 'token'), TOKEN)
  }
  t.same(hiddenNames(stop as Form), ['csrf', 'token'], 'the first does not end sessions')
  t.same(hiddenNames(signOut as Form), ['csrf', 'token', 'end_sessions'])
  t.match(stop?.body, />Stop these sign-in emails<\/button>/)
  t.match(signOut?.body, />Also sign me out everywhere<\/button>/)
  t.ok(html.includes(escapeXml(MASKED)), 'the masked address')
  t.match(html, /Your existing sessions stay signed in/)
  const kept = render({ name: 'reported', maskedEmail: MASKED, endedSessions: false })
  t.match(kept, /Your existing sessions stay signed in/)
  t.equal(forms(kept).length, 0, 'the done page has no form')
  const ended = render({ name: 'reported', maskedEmail: MASKED, endedSessions: true })
  t.match(ended, /Every session of this account has ended/)
})

t.test('login: the form, its field, and an error tied to the field', async (t) => {
  const plain = render({ name: 'login' })
  const [form, ...others] = forms(plain)
  t.equal(others.length, 0, 'one form')
  t.match(form?.attributes, /method="post"/)
  t.match(form?.attributes, /action="\/login"/)
  t.same(hiddenNames(form as Form), ['csrf'], 'no next unless one is given')
  t.match(plain, /<label for="email">Email address<\/label>/, 'a visible label')
  const input = plain.match(/<input id="email"[^>]*>/)?.[0] ?? ''
  for (const attribute of [
    'name="email"',
    'type="email"',
    'autocomplete="email"',
    ' required',
    'maxlength="254"',
  ]) {
    t.ok(input.includes(attribute), `the email input has ${attribute.trim()}`)
  }
  t.notMatch(input, /aria-invalid|aria-describedby|value=/, 'no error, no value')
  t.notMatch(plain, /role="alert"/)

  const failed = render(
    { name: 'login', email: 'x@', error: 'login.invalidEmail' },
    { ...hostile, translator: english },
  )
  const field = failed.match(/<input id="email"[^>]*>/)?.[0] ?? ''
  t.match(field, /aria-invalid="true"/)
  const describedBy = field.match(/aria-describedby="([^"]+)"/)?.[1]
  t.ok(describedBy, 'the field names its error')
  t.match(
    failed,
    new RegExp(`<p id="${describedBy}"[^>]*role="alert"[^>]*>[\\s\\S]*Enter a valid email`),
    'the error, announced, has that id',
  )
  t.ok(
    failed.indexOf('id="email"') < failed.indexOf('role="alert"') &&
      failed.indexOf('role="alert"') < failed.indexOf('<button'),
    'focus order: the field, its error, the button',
  )

  const withNext = forms(render({ name: 'login', next: NEXT }))[0] as Form
  t.same(hiddenNames(withNext), ['csrf', 'next'])
  t.equal(hiddenValue(withNext, 'next'), NEXT)
})

t.test('confirm and elsewhere post the token back, and only elsewhere confirms', async (t) => {
  for (const name of ['confirm', 'elsewhere'] as const) {
    const html = render({ name, maskedEmail: MASKED, token: TOKEN, next: NEXT })
    const all = forms(html)
    t.equal(all.length, 1, `${name}: one form`)
    const form = all[0] as Form
    t.match(form.attributes, /method="post"/)
    t.match(form.attributes, /action="\/login\/link"/)
    t.equal(hiddenValue(form, 'token'), TOKEN, `${name}: the token, intact`)
    t.equal(hiddenValue(form, 'next'), NEXT, `${name}: the target, intact`)
    t.equal(hiddenValue(form, 'csrf'), CSRF)
    t.equal(count(form.body, '<button'), 1, `${name}: one button`)
    const expected =
      name === 'elsewhere' ? ['csrf', 'token', 'next', 'elsewhere'] : ['csrf', 'token', 'next']
    t.same(hiddenNames(form), expected)
    if (name === 'elsewhere') t.equal(hiddenValue(form, 'elsewhere'), 'confirmed')

    const bare = forms(render({ name, maskedEmail: MASKED, token: 't' }))[0] as Form
    t.notOk(hiddenNames(bare).includes('next'), `${name}: no next unless one is given`)
  }
  const elsewhere = render({ name: 'elsewhere', maskedEmail: MASKED, token: TOKEN })
  t.match(elsewhere, /another browser or on another device/, 'says where the link was requested')
  t.match(elsewhere, /If you did not request it, close this page/)
})

t.test(
  'link-error: one distinct sentence per reason, a new-link form, never the token',
  async (t) => {
    const leads = new Set<string>()
    const headings = new Set<string>()
    for (const reason of REASONS) {
      // A careless caller could hand over the token too; the page still must not show it.
      const page = { name: 'link-error', reason, next: NEXT, token: TOKEN } as Page
      const html = render(page, { appName: 'Acme', csrf: 'c', translator: english })
      const lead = html.match(/<p class="lk-lead">([^<]+)<\/p>/)?.[1]
      const heading = html.match(/<h1>([^<]+)<\/h1>/)?.[1]
      t.ok(lead && lead.length > 20, `${reason}: a sentence`)
      leads.add(lead ?? '')
      headings.add(heading ?? '')
      t.notOk(html.includes(reason), `${reason}: the code is not shown`)
      t.notOk(html.includes(escapeXml(TOKEN)) || html.includes('tok&quot;'), `${reason}: no token`)
      t.notMatch(html, /name="token"/)

      const [form, ...others] = forms(html)
      t.equal(others.length, 0, `${reason}: one form`)
      t.match(form?.attributes, /method="post"/)
      t.match(form?.attributes, /action="\/login"/)
      t.same(hiddenNames(form as Form), ['csrf', 'next'])
      t.equal(hiddenValue(form as Form, 'next'), NEXT)
      t.match(form?.body, /<label for="email">Email address<\/label>/)
      t.match(
        form?.body,
        /<input id="email" name="email" type="email" autocomplete="email"[^>]* required/,
      )
      t.match(form?.body, />Send me a new link<\/button>/)
    }
    t.equal(leads.size, REASONS.length, 'every reason has its own sentence')
    t.equal(headings.size, REASONS.length, 'and its own heading')

    const noNext = forms(render({ name: 'link-error', reason: 'token_used' }))[0] as Form
    t.same(hiddenNames(noNext), ['csrf'])

    const unknown = render({ name: 'link-error', reason: 'nope' as LinkErrorReason })
    t.ok(
      unknown.includes(
        render({ name: 'link-error', reason: 'token_invalid' }).match(/<h1>.*<\/h1>/)?.[0] ?? '?',
      ),
      'an unknown reason reads as an invalid link, not a blank page',
    )
  },
)

t.test('an empty app name or address draws no empty badge', async (t) => {
  const login = render({ name: 'login' }, { appName: ' ', csrf: 'c', translator: english })
  t.notMatch(login, /lk-mark/)
  t.match(
    render({ name: 'login' }, { appName: 'ñandú', csrf: 'c', translator: english }),
    /lk-mark[^>]*>Ñ</,
  )
  t.match(
    render({ name: 'login' }, { appName: '𝔸cme', csrf: 'c', translator: english }),
    /lk-mark[^>]*>𝔸</,
    'whole',
  )
  t.notMatch(render({ name: 'confirm', maskedEmail: '', token: 't' }), /lk-avatar/)
})

t.test('sent has one form, the code form, with the CSRF token and the typed address', async (t) => {
  const [code, ...more] = forms(render({ name: 'sent', email: EMAIL, next: NEXT }))
  t.equal(more.length, 0, 'one form')
  t.match(code?.attributes, /method="post" action="\/login\/code"/, 'posts to /login/code')
  t.same(code?.hidden, [
    ['csrf', CSRF],
    ['email', EMAIL],
    ['next', NEXT],
  ])
  const wrong = render({ name: 'sent', email: EMAIL, codeError: 'sent.wrongCode' })
  t.match(wrong, /role="alert"[\s\S]*Nope &lt;b&gt;/, 'the error is escaped and announced')
  t.notMatch(render({ name: 'sent', email: EMAIL }), /role="alert"/, 'no error, no alert')
})

t.test('forbidden has no form to forge, and links back', async (t) => {
  const forbidden = render({ name: 'forbidden', message: 'forbidden.crossSite' })
  t.equal(forms(forbidden).length, 0)
  t.match(forbidden, /<a class="lk-button" href="\/login">Back to sign in<\/a>/)
})

t.test(
  'signing out is a form with the CSRF token, on the signed-in and the logout page',
  async (t) => {
    const [signedIn, ...more] = forms(render({ name: 'signed-in', email: EMAIL }))
    t.equal(more.length, 0, 'signed-in: one form')
    t.match(signedIn?.attributes, /method="post" action="\/logout"/, 'signed-in: posts to /logout')
    t.same(signedIn?.hidden, [['csrf', CSRF]], 'signed-in: the CSRF token, no target')
    t.match(signedIn?.body, />Sign out<\/button>/)

    const [logout, ...others] = forms(render({ name: 'logout', next: NEXT }))
    t.equal(others.length, 0, 'logout: one form')
    t.match(logout?.attributes, /method="post" action="\/logout"/, 'logout: posts to /logout')
    t.same(
      logout?.hidden,
      [
        ['csrf', CSRF],
        ['next', NEXT],
      ],
      'logout: the CSRF token and the target, intact',
    )
    t.same(forms(render({ name: 'logout' }))[0]?.hidden, [['csrf', CSRF]], 'no target, no field')
  },
)

t.test('rate-limited: which limit, how long to wait, the way back, and no form', async (t) => {
  const base = { appName: 'Acme', csrf: 'c', translator: english }
  const recipient = render(
    { name: 'rate-limited', limit: 'recipient', retryAfterSeconds: 900, next: NEXT },
    base,
  )
  t.match(recipient, /<title>Too many sign-in emails — Acme<\/title>/)
  t.match(recipient, /<h1>Too many sign-in emails<\/h1>/)
  t.ok(
    recipient.includes(
      'Too many sign-in emails were requested for this address. Try again in 15 minutes.',
    ),
    'the recipient sentence, with the wait in minutes',
  )
  t.match(recipient, /If a sign-in link was sent, it still works/)
  t.equal(forms(recipient).length, 0, 'nothing to post')
  const href = recipient.match(/<a class="lk-button" href="([^"]*)">Back to sign in<\/a>/)?.[1]
  t.equal(
    new URL(unescapeXml(href ?? ''), 'https://login.example').searchParams.get('next'),
    NEXT,
    'back to the form, keeping the target',
  )

  const ip = render({ name: 'rate-limited', limit: 'ip', retryAfterSeconds: 42 }, base)
  t.match(ip, /<title>Too many requests — Acme<\/title>/)
  t.ok(
    ip.includes('Too many requests came from your network in a short time. Try again in 1 minute.'),
    'the network sentence',
  )
  t.match(ip, /<a class="lk-button" href="\/login">Back to sign in<\/a>/)

  const form = render({ name: 'rate-limited', limit: 'form', retryAfterSeconds: 600 }, base)
  t.match(form, /<h1>Too many sign-in emails<\/h1>/)
  t.ok(
    form.includes(
      'Too many sign-in emails were requested from your network. Try again in 10 minutes.',
    ),
    'the form budget’s sentence: from this network, not to this address',
  )
  t.match(form, /If a sign-in link was sent, it still works/)
  t.equal(forms(form).length, 0, 'nothing to post')

  const wait = (seconds: number) =>
    render({ name: 'rate-limited', limit: 'ip', retryAfterSeconds: seconds }, base).match(
      /Try again in ([^.]+)\./,
    )?.[1]
  t.equal(wait(0), '1 minute', 'never "0 minutes"')
  t.equal(wait(60), '1 minute')
  t.equal(wait(61), '2 minutes', 'rounded up: never too early')
  t.equal(wait(5400), '90 minutes')
  t.equal(wait(5401), '2 hours', 'hours past an hour and a half')
  t.equal(wait(86400), '24 hours')
})

t.test('the templates: escaping on, raw output only for the body and it.rich', async (t) => {
  const dir = new URL('../../src/http/pages/', import.meta.url)
  const templates = readdirSync(dir).filter((name) => name.endsWith('.eta'))
  t.ok(templates.length >= 9, 'a layout and eight pages')
  for (const name of templates) {
    const source = readFileSync(new URL(name, dir), 'utf8')
    const raws = [...source.matchAll(/<%~([^%]*)%>/g)].map((m) => m[1] ?? '')
    t.equal(raws.length, count(source, '<%~'), `${name}: every raw output read`)
    if (name === 'layout.eta') {
      t.equal(raws.length, 1, 'layout: one raw output')
      t.match(raws[0], /it\.body $/, 'layout: the body slot')
      continue
    }
    // it.rich escapes every part itself (mail/locales/rich.ts): the only other raw output.
    for (const raw of raws) t.match(raw, /^ it\.rich\('[\w.]+', /, `${name}: raw output is it.rich`)
  }
})

t.test('the stylesheet: non-empty, read once, a strong ETag of its bytes', async (t) => {
  const sheet = stylesheet()
  t.ok(sheet.body.length > 1000, 'the CSS text')
  t.equal(
    sheet.body,
    readFileSync(new URL('../../src/http/pages/assets/latchkey.css', import.meta.url), 'utf8'),
  )
  t.match(sheet.etag, /^"[A-Za-z0-9_-]{43}"$/, 'strong (no W/), quoted')
  t.equal(sheet.etag, `"${createHash('sha256').update(sheet.body).digest('base64url')}"`)
  t.equal(STYLESHEET_PATH, '/assets/latchkey.css')
  t.match(sheet.body, /@media \(prefers-color-scheme: dark\)/, 'a dark scheme')
  t.match(sheet.body, /:focus-visible/, 'visible focus')
  t.match(sheet.body, /max-width: 420px/, 'the card width')
  t.notMatch(sheet.body, /@import|url\(/, 'loads nothing else')
})
