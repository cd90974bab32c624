import fc from 'fast-check'
import t from 'tap'
import type { LinkMessageInput } from '../../src/mail/templates/link.js'
import { count, escapeXml, unescapeXml } from '../helpers/html.js'
import { describeDuration, linkMessage } from '../helpers/shipped.js'

const LINK = 'https://login.acme.example/login/link?token=abc_DEF-123&next=%2Fwelcome'
const VALIDITY_ONCE = 'This link works once and expires in 15 minutes.'
const IGNORE =
  'If you did not ask for this, you can ignore this email; no one can sign in without the link.'

function render(overrides: Partial<LinkMessageInput> = {}) {
  return linkMessage({
    to: 'ada@example.com',
    link: LINK,
    appName: 'Acme',
    ttlSeconds: 900,
    oneTime: true,
    ...overrides,
  })
}

const hrefs = (html: string) => [...html.matchAll(/\shref="([^"]*)"/g)].map((m) => m[1] ?? '')

t.test('the subject names the app, on one line', async (t) => {
  t.equal(render().subject, 'Sign in to Acme')
  t.equal(
    render({ appName: 'Acme\r\nBcc: x@evil.example' }).subject,
    'Sign in to Acme Bcc: x@evil.example',
  )
})

t.test('the HTML part: one button to the link, the link as text, and what to know', async (t) => {
  const { html } = render()
  t.same(hrefs(html), [escapeXml(LINK)], 'one anchor, and it is the link')
  t.equal(count(html, escapeXml(LINK)), 2, 'the link: once as the href, once as text to copy')
  t.match(html, /<a href="[^"]*"[^>]*>Sign in to Acme<\/a>/, 'the button says where it goes')
  t.ok(html.includes('Acme'), 'the app name')
  t.ok(html.includes(VALIDITY_ONCE), 'how long it stays valid, and that it works once')
  t.ok(html.includes(IGNORE), 'what to do when it was not you')
  t.ok(html.includes('ada@example.com'), 'whom it was sent to')
  t.match(html, /^<!DOCTYPE html>/)
  t.match(html, /<table role="presentation"/, 'a table layout')
  t.match(html, /max-width:480px/)
  t.match(html, /<meta name="color-scheme" content="light dark">/)
  t.match(html, /<meta name="supported-color-schemes" content="light dark">/)
  t.match(html, /@media \(prefers-color-scheme: dark\)/)
  t.match(html, /display:none;[^"]*">This link works once/, 'a preheader for the inbox preview')
})

t.test('the text part: the same content, the link on a line of its own', async (t) => {
  const { text } = render()
  const lines = text.split('\n')
  t.equal(count(text, LINK), 1, 'the link once, unescaped')
  t.ok(lines.includes(LINK), 'alone on its line')
  t.ok(lines.includes('Sign in to Acme'))
  t.ok(lines.includes(VALIDITY_ONCE))
  t.ok(lines.includes(IGNORE))
  t.notMatch(text, /&amp;|&lt;|<[a-z]/i, 'no HTML in the plain text')
})

t.test('a reusable link does not say "once"', async (t) => {
  const { html, text } = render({ oneTime: false, ttlSeconds: 7200 })
  for (const part of [html, text]) {
    t.ok(part.includes('This link expires in 2 hours.'))
    t.notMatch(part, /once/)
  }
})

t.test('hostile values are escaped in HTML and cannot break the href', async (t) => {
  const appName = '<script>alert(1)</script>'
  const link = 'https://x.example/login/link?token=a"onmouseover="alert(1)&next=%2F\'x'
  const { html, text } = render({ appName, link })
  t.notMatch(html, /<script/i, 'no raw script tag')
  t.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'the name, escaped')
  t.notMatch(html, /"onmouseover=/, 'the quote does not close the attribute')
  t.same(hrefs(html).map(unescapeXml), [link], 'the href holds the whole link, nothing more')
  t.ok(html.includes('token=a&quot;onmouseover=&quot;alert(1)&amp;next=%2F&#39;x'))
  // Plain text is not HTML: the values stand as they are, which is correct for text/plain.
  t.ok(text.split('\n').includes(link))
  t.ok(text.includes(`Sign in to ${appName}`))
})

t.test('a value cannot add lines to the text part', async (t) => {
  const { text } = render({ appName: 'Acme\n\nhttps://evil.example/login\n' })
  t.notOk(text.split('\n').includes('https://evil.example/login'), 'no forged link line')
  t.ok(text.split('\n').includes(LINK))
})

t.test('the HTML loads nothing: no images, stylesheets or other URLs', async (t) => {
  const html = render({ appName: 'Acme' }).html
  t.notMatch(html, /<img|<link|<script|<iframe|<object|<video|<audio|<source/i)
  t.notMatch(html, /\ssrc=|\sbackground=|url\(|@import/i)
  const withoutLink = html.replaceAll(escapeXml(LINK), '')
  t.notMatch(withoutLink, /https?:|\/\/[a-z0-9]/i, 'no URL but the link itself')
})

t.test('property: an app name with markup never reaches the HTML raw', async (t) => {
  const neutral = render({ appName: 'APP' }).html
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (before, after) => {
      const appName = `${before}<${after}`
      const { html } = render({ appName })
      // Only escaped, and only where the template puts the name: swapping the escaped name for
      // a plain one gives the plain rendering back, byte for byte.
      const escapedOnly = html.replaceAll(escapeXml(appName), 'APP') === neutral
      // (A name like "<td" is part of the template's own markup; that is not the name leaking.)
      return escapedOnly && (neutral.includes(appName) || !html.includes(appName))
    }),
  )
  t.pass('escaped wherever it appears')
})

t.test('property: any app name and web URL, the link survives both parts intact', async (t) => {
  fc.assert(
    fc.property(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 100 }),
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      (appName, link) => {
        const { html, text } = render({ appName, link })
        const [href, ...more] = hrefs(html)
        return (
          href !== undefined &&
          more.length === 0 &&
          unescapeXml(href) === link &&
          text.split('\n').includes(link)
        )
      },
    ),
  )
  t.pass('one href that decodes to the link; the link alone on a text line')
})

t.test('durations read as people say them', async (t) => {
  t.equal(describeDuration(900), '15 minutes')
  t.equal(describeDuration(60), '1 minute')
  t.equal(describeDuration(3600), '1 hour')
  t.equal(describeDuration(7200), '2 hours')
  t.equal(describeDuration(86400), '1 day')
  t.equal(describeDuration(90), '90 seconds')
})
