import { mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { mustRun, ROOT } from '../helpers/process.js'
import { tempDir } from '../helpers/temp.js'

// The package as a Node 20 backend gets it: built with tsc (`npm run build` in client/), loaded by
// plain node with no TypeScript loader, and with no package beside it but jose, so a runtime import
// of fastify (or anything else) fails here.
t.test('the built package loads in plain node with jose as its only package', async (t) => {
  const dir = tempDir(t, 'latchkey-client-pkg-')
  const dist = join(dir, 'dist')
  await mustRun(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'client/tsconfig.json', '--outDir', dist],
    { timeoutMs: 0 },
  )
  mkdirSync(join(dir, 'node_modules'))
  symlinkSync(join(ROOT, 'node_modules/jose'), join(dir, 'node_modules/jose'))

  const built = readdirSync(dist)
  for (const entry of ['index.js', 'index.d.ts', 'fastify.js', 'fastify.d.ts']) {
    t.ok(built.includes(entry), `dist/${entry}`)
  }
  const imports = new Set<string>()
  for (const file of built.filter((f) => f.endsWith('.js'))) {
    const code = readFileSync(join(dist, file), 'utf8')
    for (const m of code.matchAll(/^(?:import|export)\b[^'"]*?from '([^']+)'/gm))
      imports.add(m[1] as string)
    for (const m of code.matchAll(/^import '([^']+)'/gm)) imports.add(m[1] as string)
  }
  t.same(
    [...imports].filter((i) => !i.startsWith('./')).sort(),
    ['jose'],
    'the runtime imports nothing but its own files and jose',
  )

  const script = `
    const index = await import(${JSON.stringify(join(dist, 'index.js'))})
    const fastify = await import(${JSON.stringify(join(dist, 'fastify.js'))})
    console.log(JSON.stringify({ index: Object.keys(index).sort(), fastify: Object.keys(fastify).sort() }))
  `
  const { stdout } = await mustRun(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '' },
  })
  t.same(JSON.parse(stdout), {
    index: ['LatchkeyError', 'createClient', 'createVerifier', 'latchkeyMiddleware'],
    fastify: ['default', 'latchkey'],
  })
})
