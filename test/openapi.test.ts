import { readFileSync } from 'node:fs'
import t from 'tap'
import { parse } from 'yaml'
import { renderOpenApi } from '../scripts/openapi.js'

t.test('the committed openapi.yaml is what the route schemas generate', async (t) => {
  const committed = readFileSync(new URL('../openapi.yaml', import.meta.url), 'utf8')
  const generated = await renderOpenApi()
  t.equal(committed, generated, 'openapi.yaml is stale: run `npm run openapi` and commit it')
})

t.test('every route of the DESIGN contract is documented', async (t) => {
  const doc = parse(await renderOpenApi()) as { paths: Record<string, Record<string, unknown>> }
  const expected: [string, string][] = [
    ['post', '/v1/links'],
    ['post', '/v1/links/verify'],
    ['post', '/v1/sessions/refresh'],
    ['post', '/v1/sessions/introspect'],
    ['get', '/.well-known/jwks.json'],
    ['get', '/v1/admin/users'],
    ['get', '/v1/admin/users/{id}'],
    ['delete', '/v1/admin/users/{id}'],
    ['post', '/v1/admin/users/{id}/revoke'],
    ['post', '/v1/admin/users/{id}/disable'],
    ['post', '/v1/admin/users/{id}/enable'],
    ['get', '/v1/admin/outbox'],
    ['post', '/v1/sessions/exchange'],
    ['get', '/healthz'],
    ['get', '/readyz'],
  ]
  for (const [method, path] of expected) {
    t.ok(doc.paths[path]?.[method], `${method.toUpperCase()} ${path}`)
  }
})
