import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { renderConfigTable, withConfigTable } from '../scripts/config-doc.js'
import { SETTINGS, TABLE } from '../src/config/index.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const readme = readFileSync(join(root, 'README.md'), 'utf8')

t.test("the README's configuration table is what the settings table generates", async (t) => {
  t.equal(
    readme,
    withConfigTable(readme),
    'the README table is stale: run `npm run config:doc` and commit it',
  )
})

t.test('every setting has a line of its own, with a default and a meaning', async (t) => {
  const table = renderConfigTable()
  for (const name of SETTINGS) {
    const line = table.split('\n').find((l) => l.startsWith(`| \`${name}\` `))
    t.ok(line, `${name} has a line`)
    t.ok(TABLE[name].doc.trim(), `${name} says what it means`)
  }
  t.match(table, /\| `PORT` +\| `3000` +\| /, 'a plain default is shown as written')
  t.match(table, /\| `RESEND_API_KEY` +\| none +\| /, 'no default is none')
})

t.test('a README without the markers is refused, not rewritten', async (t) => {
  t.throws(() => withConfigTable('# latchkey\n'), /lacks the markers/)
})
