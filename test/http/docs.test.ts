import { readFileSync } from 'node:fs'
import t from 'tap'
import { parse } from 'yaml'
import { build, PUBLIC_URL } from '../helpers/app.js'
import { assertProblem } from '../helpers/http.js'

const DOCS_URLS = ['/docs', '/docs/', '/docs/json', '/docs/yaml', '/docs/static/index.html']

t.test('DOCS=on: Swagger UI and the document, naming this instance as its server', async (t) => {
  const h = await build(t, { env: { DOCS: 'on' } })
  let page = await h.app.inject({ method: 'GET', url: '/docs' })
  for (let hops = 0; hops < 3 && page.statusCode >= 300 && page.statusCode < 400; hops++) {
    const location = String(page.headers.location)
    page = await h.app.inject({ method: 'GET', url: new URL(location, 'http://x/docs').pathname })
  }
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /^text\/html/)

  const served = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json()
  t.same(served.servers, [{ url: PUBLIC_URL, description: 'This instance (PUBLIC_URL)' }])
  // Apart from its server, the document an instance serves is the committed one.
  const committed = parse(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8'))
  t.same({ ...served, servers: committed.servers }, committed)
})

t.test('DOCS=off: no console, no document, a 404 problem like any unknown path', async (t) => {
  const h = await build(t, { env: { DOCS: 'off' } })
  for (const url of DOCS_URLS) {
    assertProblem(t, await h.app.inject({ method: 'GET', url }), 404, 'not_found')
  }
})
