import { readFileSync } from 'node:fs'
import t from 'tap'
import { parse } from 'yaml'
import { ROUTES } from '../../client/src/api.js'
import { CLIENT_TYPES, renderClientTypes } from '../../scripts/client-types.js'

const root = new URL('../../', import.meta.url)
const openapi = readFileSync(new URL('openapi.yaml', root), 'utf8')

t.test('the committed client types are what openapi.yaml generates', async (t) => {
  t.equal(
    readFileSync(CLIENT_TYPES, 'utf8'),
    await renderClientTypes(openapi),
    'client/src/api-types.ts is stale: run `npm run client:types` and commit it',
  )
})

t.test('a changed openapi.yaml changes the types (the check above can fail)', async (t) => {
  const renamed = openapi.replace(/^(\s+)refresh_token:$/m, '$1refresh_token_renamed:')
  t.not(renamed, openapi)
  t.not(await renderClientTypes(renamed), readFileSync(CLIENT_TYPES, 'utf8'))
})

t.test("every route the client calls is in openapi.yaml, under the operation's id", async (t) => {
  const doc = parse(openapi) as {
    paths: Record<string, Record<string, { operationId: string }>>
  }
  for (const [operationId, [method, path]] of Object.entries(ROUTES)) {
    t.equal(doc.paths[path]?.[method.toLowerCase()]?.operationId, operationId, `${method} ${path}`)
  }
})

t.test('the package depends on jose only, at the version the service uses', async (t) => {
  const client = JSON.parse(readFileSync(new URL('client/package.json', root), 'utf8'))
  const service = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'))
  t.equal(client.name, 'latchkey-client')
  t.equal(client.type, 'module')
  t.same(Object.keys(client.dependencies), ['jose'])
  t.equal(client.dependencies.jose, service.dependencies.jose)
  t.same(client.peerDependenciesMeta, { fastify: { optional: true } }, 'fastify is optional')
})
