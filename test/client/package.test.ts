import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import ts from 'typescript'
import { mustRun, ROOT } from '../helpers/process.js'
import { tempDir } from '../helpers/temp.js'

// The package as a Node 20 backend gets it: built with tsc (`npm run client:build`), installed
// in a consumer's node_modules beside jose (and, for the types, fastify and @types/node), loaded
// by plain node with no TypeScript loader, and its declarations compiled against the README's
// examples. No package but jose is beside it at run time, so a runtime import of fastify (or
// anything else) fails here.
const consumer = tempDir(t, 'latchkey-client-consumer-')
const pkg = join(consumer, 'node_modules/latchkey-client')
const dist = join(pkg, 'dist')
await mustRun(
  process.execPath,
  [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'client/tsconfig.json', '--outDir', dist],
  { timeoutMs: 0 },
)
cpSync(join(ROOT, 'client/package.json'), join(pkg, 'package.json'))
const link = (name: string) => {
  mkdirSync(join(consumer, 'node_modules', name, '..'), { recursive: true })
  symlinkSync(join(ROOT, 'node_modules', name), join(consumer, 'node_modules', name))
}
link('jose')
writeFileSync(join(consumer, 'package.json'), '{"type":"module"}')

t.test('the runtime imports nothing but its own files and jose', async (t) => {
  const built = readdirSync(dist)
  for (const entry of ['index.js', 'index.d.ts', 'fastify.js', 'fastify.d.ts']) {
    t.ok(built.includes(entry), `dist/${entry}`)
  }
  const imports = new Set<string>()
  for (const file of built.filter((f) => f.endsWith('.js'))) {
    const code = readFileSync(join(dist, file), 'utf8')
    for (const m of code.matchAll(/^(?:import|export)\b[^'"]*?from '([^']+)'/gm)) {
      imports.add(m[1] as string)
    }
    for (const m of code.matchAll(/^import '([^']+)'/gm)) imports.add(m[1] as string)
  }
  t.same([...imports].filter((i) => !i.startsWith('./')).sort(), ['jose'])
})

t.test('plain node loads both entry points by the package name', async (t) => {
  const script = `
    const index = await import('latchkey-client')
    const fastify = await import('latchkey-client/fastify')
    console.log(JSON.stringify({ index: Object.keys(index).sort(), fastify: Object.keys(fastify).sort() }))
  `
  const file = join(consumer, 'load.mjs')
  writeFileSync(file, script)
  const { stdout } = await mustRun(process.execPath, [file], {
    env: { PATH: process.env.PATH ?? '' },
  })
  t.same(JSON.parse(stdout), {
    index: ['LatchkeyError', 'createClient', 'createVerifier', 'latchkeyMiddleware'],
    fastify: ['default', 'latchkey'],
  })
})

t.test("the README's examples type-check against the built declarations", async (t) => {
  link('fastify')
  link('@types/node')
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const part = readme.slice(
    readme.indexOf('### latchkey-client, for Node backends'),
    readme.indexOf('## Sessions'),
  )
  const backend = /```js\n([\s\S]*?)```/.exec(part)?.[1]
  const client = /```ts\n([\s\S]*?)```/.exec(part)?.[1]
  if (backend === undefined || client === undefined) throw new Error('an example is missing')
  writeFileSync(join(consumer, 'backend.ts'), backend)
  // `token` is what the backend's own page received.
  writeFileSync(join(consumer, 'client.ts'), `declare const token: string\n${client}`)
  const program = ts.createProgram([join(consumer, 'backend.ts'), join(consumer, 'client.ts')], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ['node'],
    typeRoots: [join(consumer, 'node_modules/@types')],
    noUnusedLocals: false,
  })
  const errors = ts
    .getPreEmitDiagnostics(program)
    .map(
      (d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
    )
  t.same(errors, [], 'no type errors')
})
