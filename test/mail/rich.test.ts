import fc from 'fast-check'
import t from 'tap'
import { CATALOGUES, rich, translator, type Wrap } from '../../src/mail/locales/index.js'

// rich() puts the template's markup around some values of a translated sentence, and escapes
// everything else: the catalogue's words (an operator's own, from TEMPLATES_DIR, included), the values,
// the attribute values and the element's text. Pages and emails print its result raw.

/** English, with `signedIn.lead` reading `message`, as an operator's catalogue may make it. */
const words = (message: string) => translator('en', { ...CATALOGUES.en, 'signedIn.lead': message })

const lead = (
  message: string,
  vars: Record<string, string | number>,
  wraps: Record<string, Wrap>,
) => rich(words(message), 'signedIn.lead', vars, wraps)

const SCRIPT = '<script>alert("x")</script>'

t.test('every part is escaped: words, values, attribute values, the element’s text', async (t) => {
  const html = lead(
    'Tom & Jerry’s <b>{app}</b>, "{who}" — {email}',
    { app: SCRIPT, who: `O'Brien & "Co"` },
    { email: ['strong', { class: `x" onclick="${SCRIPT}`, title: "it's <&>" }, SCRIPT] },
  )
  t.equal(
    html,
    'Tom &amp; Jerry’s &lt;b&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;/b&gt;, ' +
      '&quot;O&#39;Brien &amp; &quot;Co&quot;&quot; — ' +
      '<strong class="x&quot; onclick=&quot;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"' +
      ' title="it&#39;s &lt;&amp;&gt;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</strong>',
    'each part escaped, the element the template’s',
  )
  t.notMatch(html, /<script/i, 'no script element')
})

t.test('a wrap goes only where the message names it, as often as it does', async (t) => {
  const link: Wrap = ['a', { href: '/report?x=1&y=2' }, 'Let us know']
  t.equal(
    lead('{link}: {app} ({link})', { app: 'Acme' }, { link }),
    '<a href="/report?x=1&amp;y=2">Let us know</a>: Acme (<a href="/report?x=1&amp;y=2">Let us know</a>)',
    'twice named, twice wrapped; a plain value stays plain',
  )
  t.equal(
    lead('Signed in to {app}.', { app: 'Acme' }, { link }),
    'Signed in to Acme.',
    'a wrap the message does not name adds nothing',
  )
  t.equal(
    lead('Signed in as {email}.', { email: 'plain@example.com' }, { email: ['b', {}, 'wrapped'] }),
    'Signed in as <b>wrapped</b>.',
    'a wrap wins over a value of the same name',
  )
  t.equal(
    lead('{count} {email}', { count: 12_345 }, { email: ['i', {}, 'x'] }),
    '12,345 <i>x</i>',
    'numbers are written in the language’s way',
  )
})

t.test('a placeholder with neither a value nor a wrap is left as written', async (t) => {
  t.equal(lead('Hi {app}, {email}.', {}, {}), 'Hi {app}, {email}.', 'no values, no wraps')
  t.equal(
    lead('Hi {app}, {email}.', { app: 'Acme' }, {}),
    'Hi Acme, {email}.',
    'a missing wrap: the placeholder itself, not markup',
  )
})

t.test('a value that spells a placeholder or a stand-in stays text', async (t) => {
  const wraps: Record<string, Wrap> = { email: ['strong', {}, 'a@example.com'] }
  t.equal(
    lead('{app}: {email}', { app: '{email}' }, wraps),
    '{email}: <strong>a@example.com</strong>',
    'a value is not read for placeholders',
  )
  const html = lead('{app}: {email}', { app: '\u0000email\u0000' }, wraps)
  t.equal(html.match(/<strong>/g)?.length, 1, 'only the message’s own placeholder is wrapped')
  t.ok(html.startsWith('\u0000email\u0000: '), 'the value as given')
})

t.test('a tag that is not a plain tag name is refused', async (t) => {
  for (const tag of ['', 'script src=x', 'a"', 'A', '1b', 'img/', '<b>']) {
    t.throws(() => lead('{email}', {}, { email: [tag, {}, 'x'] }), TypeError, JSON.stringify(tag))
  }
})

t.test('property: any values come out as escaping each part by hand', async (t) => {
  // A reference escape, written apart from the module's.
  const byHand = (s: string) =>
    s
      .replaceAll('&', '&amp;')
      .replaceAll('<', '&lt;')
      .replaceAll('>', '&gt;')
      .replaceAll('"', '&quot;')
      .replaceAll("'", '&#39;')
  const text = fc.string({ unit: 'binary', maxLength: 40 })
  fc.assert(
    fc.property(text, text, text, text, (app, content, cls, words) => {
      // Words of the message's own that name a placeholder would be filled too: not these.
      fc.pre(!/\{[A-Za-z]+\}/.test(words))
      const html = lead(
        `${words}{app} <{email}>`,
        { app },
        { email: ['span', { class: cls }, content] },
      )
      return (
        html ===
        `${byHand(words)}${byHand(app)} &lt;<span class="${byHand(cls)}">${byHand(content)}</span>&gt;`
      )
    }),
  )
  t.pass('no value escaped differently, none read as markup')
})
