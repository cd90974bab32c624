import { readFileSync } from 'node:fs'
import t from 'tap'

/*
 * Docker does not run in the tests; what can be checked by reading is checked here: the image's
 * Node.js is one exact release, the same in every stage, a line better-sqlite3 supports and the
 * one the README names.
 */

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8')
const dockerfile = read('Dockerfile')

t.test('every stage runs one exact Node.js release, named once', async (t) => {
  const image = dockerfile.match(/^ARG NODE_IMAGE=(\S+)$/m)?.[1] ?? ''
  t.match(image, /^node:\d+\.\d+\.\d+-[a-z]+-slim$/, 'an exact version tag, not a moving one')
  const froms = [...dockerfile.matchAll(/^FROM \$\{(\w+)\}/gm)].map((m) => m[1])
  t.same(froms, ['NODE_IMAGE', 'NODE_IMAGE'], 'both stages use it')
  t.equal(dockerfile.match(/^FROM /gm)?.length, 2, 'and there is no other')
  t.ok(read('README.md').includes(`\`${image}\``), 'the README names it')

  const major = Number(image.match(/^node:(\d+)\./)?.[1])
  t.ok(major >= 26, `Node.js ${major}: the LTS line of late 2026, not 20 (end of life)`)
  const engines = (
    JSON.parse(read('node_modules/better-sqlite3/package.json')) as { engines: { node: string } }
  ).engines.node
  t.ok(
    engines
      .split('||')
      .map((s) => s.trim())
      .includes(`${major}.x`),
    `better-sqlite3: ${engines}`,
  )
  const range = (JSON.parse(read('package.json')) as { dependencies: Record<string, string> })
    .dependencies['better-sqlite3']
  t.match(range, /^\^12\.(1\d|[2-9]\d)\./, 'and package.json asks for a release that supports it')
})
