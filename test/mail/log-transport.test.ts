import t from 'tap'
import { LogTransport } from '../../src/mail/log-transport.js'
import { linkMessage } from '../helpers/shipped.js'

t.test('the log transport prints the whole message, link included, as one block', async (t) => {
  const written: string[] = []
  const link = 'http://localhost:3000/login/link?token=abc'
  await new LogTransport((text) => written.push(text)).send(
    linkMessage({ to: 'ada@example.com', link, appName: 'Acme', ttlSeconds: 900, oneTime: true }),
  )
  t.equal(written.length, 1, 'one write, so concurrent messages do not interleave')
  const [block = ''] = written
  t.match(block, /^-{72}\nTo: ada@example\.com\nSubject: Sign in to Acme\n/)
  t.ok(block.includes(`\n${link}\n`), 'the link stands on a line of its own, clickable')
  t.match(block, /This link works once and expires in 15 minutes\./)
  t.match(block, /-{72}\n$/)
})

t.test('the message escapes what it interpolates into HTML', async (t) => {
  const message = linkMessage({
    to: 'a@example.com',
    link: 'https://x.example/login/link?token=a&next=%2F',
    appName: '<b>Acme</b>',
    ttlSeconds: 7200,
    oneTime: false,
  })
  t.notMatch(message.html, /<b>Acme<\/b>/)
  t.match(message.html, /&lt;b&gt;Acme&lt;\/b&gt;/)
  t.match(message.html, /href="https:\/\/x\.example\/login\/link\?token=a&amp;next=%2F"/)
  t.match(message.text, /This link expires in 2 hours\./, 'a reusable link does not say "once"')
})

t.test('the log transport prints the message’s language, as Content-Language', async (t) => {
  const written: string[] = []
  const message = linkMessage({
    to: 'ada@example.com',
    link: 'http://localhost:3000/login/link?token=abc',
    appName: 'Acme',
    ttlSeconds: 900,
    oneTime: true,
  })
  await new LogTransport((text) => written.push(text)).send({ ...message, lang: 'es' })
  t.match(written[0], /\nSubject: Sign in to Acme\nContent-Language: es\n\n/)
  await new LogTransport((text) => written.push(text)).send({ ...message, lang: 'x\nBcc: y' })
  t.notMatch(written[1], /Bcc|Content-Language/, 'nothing that is not a tag reaches a header')
})
