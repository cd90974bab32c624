import t from 'tap'
import { createClient, LatchkeyError } from '../../client/src/index.js'
import { build, listenLocal, serviceKey } from '../helpers/app.js'
import { Browser, mailedLink, openAndConfirm, requestLink } from '../helpers/pages.js'

// The hosted pages' `code` handoff needs a browser on the pages, which the in-process app gives
// (test/helpers/pages.ts); the backend's half, the exchange, goes through latchkey-client over a
// real socket.
const ALLOWED = 'https://app.example.test'

t.test('exchange: the code a person brought back becomes a session, once', async (t) => {
  const h = await build(t, { env: { HANDOFF: 'code', ALLOWED_REDIRECTS: ALLOWED } })
  const port = await listenLocal(h.app)
  const client = createClient({ url: `http://127.0.0.1:${port}`, apiKey: serviceKey.key })

  const next = `${ALLOWED}/callback`
  const email = 'exchange@example.com'
  const b = new Browser(h.app)
  await requestLink(b, email, { next })
  const confirmed = await openAndConfirm(b, await mailedLink(h, email))
  const code = new URL(String(confirmed.headers.location)).searchParams.get('code') as string
  t.match(code, /^[\w-]{64}$/, 'the target got a code')

  const session = await client.exchange({ code })
  t.match(session, { jwt: String, refresh_token: String, session_id: String })
  t.match(await client.introspect(session.jwt), { active: true })
  const again = await client.exchange({ code }).catch((e: unknown) => e)
  t.ok(again instanceof LatchkeyError)
  t.match(again, { code: 'token_used', status: 401 })
})
