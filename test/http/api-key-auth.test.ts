import t from 'tap'
import { adminKey, build } from '../helpers/app.js'
import { assertProblem } from '../helpers/http.js'

const harness = await build(t)
const { app } = harness

const list = (authorization: string) =>
  app.inject({ method: 'GET', url: '/v1/admin/users', headers: { authorization } })

t.test('the Bearer scheme is matched without regard to case (RFC 9110, 11.1)', async (t) => {
  for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
    const res = await list(`${scheme} ${adminKey.key}`)
    t.equal(res.statusCode, 200, scheme)
  }
  t.equal((await list(`Bearer   ${adminKey.key}`)).statusCode, 200, 'more than one space')
})

t.test('anything else is still refused', async (t) => {
  for (const authorization of [
    adminKey.key,
    `Bearer${adminKey.key}`,
    `Basic ${adminKey.key}`,
    `Bearer ${adminKey.key} extra`,
    `Bearer ${adminKey.key.toUpperCase()}`,
    `Bearer\t${adminKey.key}`,
    'Bearer ',
  ]) {
    assertProblem(t, await list(authorization), 401, 'unauthorized')
  }
})
