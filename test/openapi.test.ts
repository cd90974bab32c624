import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import openapiTS, { astToString } from 'openapi-typescript'
import t from 'tap'
import { Compile } from 'typebox/compile'
import ts from 'typescript'
import { parse } from 'yaml'
import { renderOpenApi } from '../scripts/openapi.js'
import { ERROR_CODES } from '../src/errors.js'
import { asAdmin, build } from './helpers/app.js'
import { mustRun, run } from './helpers/process.js'
import { tempDir } from './helpers/temp.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const generated = await renderOpenApi()

interface Operation {
  operationId?: string
  requestBody?: { content: Record<string, MediaType> }
  responses: Record<
    string,
    { headers?: Record<string, unknown>; content?: Record<string, unknown> }
  >
  security?: unknown[]
}
interface MediaType {
  schema: Record<string, unknown>
  example?: unknown
  examples?: Record<string, { value: unknown }>
}
interface Document {
  servers?: { url: string }[]
  paths: Record<string, Record<string, Operation>>
  components: { schemas: { Problem: { properties: { code: { enum: string[] } } } } }
}
const doc = parse(generated) as Document
const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, operation]) => ({ path, method, operation })),
)

t.test('the committed openapi.yaml is what the route schemas generate', async (t) => {
  const committed = readFileSync(join(root, 'openapi.yaml'), 'utf8')
  t.equal(committed, generated, 'openapi.yaml is stale: run `npm run openapi` and commit it')
  t.equal(await renderOpenApi(), generated, 'and generating it twice gives the same bytes')
})

t.test('every route of the DESIGN contract is documented', async (t) => {
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

t.test("Redocly's recommended rules find nothing: no error, no warning", async (t) => {
  const dir = tempDir(t, 'latchkey-redocly-')
  const file = join(dir, 'openapi.yaml')
  writeFileSync(file, generated)
  const report = await redoclyLint(file)
  t.same(report.totals, { errors: 0, warnings: 0, ignored: 0 })
  t.same(
    report.problems.map((p) => `${p.ruleId}: ${p.message} (${p.location[0]?.pointer})`),
    [],
  )
})

t.test('errors are documented as they are sent', async (t) => {
  t.same(doc.components.schemas.Problem.properties.code.enum, ERROR_CODES, 'code is the enum')
  for (const { path, method, operation } of operations) {
    const name = `${method.toUpperCase()} ${path}`
    for (const [status, response] of Object.entries(operation.responses)) {
      if (!/^[45]/.test(status)) continue
      t.same(Object.keys(response.content ?? {}), ['application/problem+json'], `${name} ${status}`)
      if (status === '429' || status === '503') {
        t.ok(response.headers?.['Retry-After'], `${name} ${status} documents Retry-After`)
      }
    }
  }

  const h = await build(t, { env: { RATE_LIMIT_API_KEY: '1/1m' } })
  const unauthenticated = await h.app.inject({ method: 'POST', url: '/v1/links', payload: {} })
  t.equal(unauthenticated.statusCode, 401)
  t.match(unauthenticated.headers['content-type'], /^application\/problem\+json/)
  const first = await h.app.inject({ method: 'GET', url: '/v1/admin/users', headers: asAdmin })
  t.equal(first.statusCode, 200)
  const limited = await h.app.inject({ method: 'GET', url: '/v1/admin/users', headers: asAdmin })
  t.equal(limited.statusCode, 429)
  t.match(limited.headers['content-type'], /^application\/problem\+json/)
  t.match(limited.headers['retry-after'], /^\d+$/, 'with the documented Retry-After')
})

t.test('every operation has an id, and public ones say they need no key', async (t) => {
  const ids = operations.map(({ operation }) => operation.operationId)
  t.notOk(ids.includes(undefined), 'an operationId each')
  t.equal(new Set(ids).size, ids.length, 'all different')
  for (const path of ['/healthz', '/readyz', '/.well-known/jwks.json']) {
    t.same(doc.paths[path]?.get?.security, [], `GET ${path}`)
  }
})

t.test(
  'POST /v1/links: exactly one of email and user_id, in the document and at run time',
  async (t) => {
    const media = doc.paths['/v1/links']?.post?.requestBody?.content['application/json']
    if (!media) throw new Error('POST /v1/links has no JSON body')
    const documented = Compile(media.schema)
    const userId = '0190f1b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b'
    t.notOk(documented.Check({}), 'the document refuses {}')
    t.notOk(documented.Check({ email: 'a@example.com', user_id: userId }), 'and both')
    t.ok(documented.Check({ email: 'a@example.com' }), 'takes an email')
    t.ok(documented.Check({ user_id: userId }), 'or a user id')

    const h = await build(t)
    for (const payload of [{}, { deliver: 'none' }, { email: 'a@example.com', user_id: userId }]) {
      const res = await h.app.inject({
        method: 'POST',
        url: '/v1/links',
        headers: asAdmin,
        payload,
      })
      t.equal(res.statusCode, 400, JSON.stringify(payload))
      t.equal(res.json().detail, 'body must have exactly one of email and user_id')
    }
    const typo = await h.app.inject({
      method: 'POST',
      url: '/v1/links',
      headers: asAdmin,
      payload: { email: 'a@example.com', ttl_seconds: 'soon' },
    })
    t.equal(
      typo.json().detail,
      'body/ttl_seconds must be integer',
      'other mistakes keep their message',
    )
  },
)

t.test('every request example in the document is accepted (what Swagger UI sends)', async (t) => {
  const h = await build(t)
  let tried = 0
  for (const { path, method, operation } of operations) {
    const media = operation.requestBody?.content['application/json']
    if (!media) continue
    const examples = [
      ...(media.example === undefined ? [] : [media.example]),
      ...Object.values(media.examples ?? {}).map((e) => e.value),
    ]
    t.ok(examples.length > 0, `${method.toUpperCase()} ${path} has an example`)
    for (const payload of examples) {
      tried++
      const res = await h.app.inject({
        method: method.toUpperCase() as 'POST',
        url: path,
        headers: asAdmin,
        payload: payload as Record<string, unknown>,
      })
      t.ok(res.statusCode !== 400 && res.statusCode < 500, `${path} ${JSON.stringify(payload)}`)
    }
  }
  t.ok(tried >= 6, `${tried} examples tried`)
})

t.test('a client generated with openapi-typescript compiles against the walkthrough', async (t) => {
  const dir = tempDir(t, 'latchkey-client-')
  // As the README says to, from the repository (so with its redocly.yaml).
  await mustRun(
    process.execPath,
    [bin('openapi-typescript'), 'openapi.yaml', '-o', join(dir, 'schema.d.ts')],
    { timeoutMs: 0 },
  )
  t.same(compileWalkthrough(dir), [], 'no type errors')

  // …and runs: the calls the types allow are the calls the service answers.
  const h = await build(t)
  const walkthrough = await loadWalkthrough(dir)
  const route = new Map(operations.map((o) => [o.operation.operationId, o]))
  const result = await walkthrough(async (operationId, params, body) => {
    const found = route.get(operationId)
    if (!found) throw new Error(`no operation ${operationId}`)
    const res = await h.app.inject({
      method: found.method.toUpperCase() as 'POST',
      url: found.path.replace(/\{(\w+)\}/g, (_, name: string) => String(params?.[name])),
      headers: asAdmin,
      ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
    })
    return { status: res.statusCode, body: res.json() }
  })
  t.same(result, { reused: 'token_used', activeBefore: true, rev: 1, activeAfter: false })
})

t.test(
  'the generated client stops compiling when a field the walkthrough uses is renamed',
  async (t) => {
    const dir = tempDir(t, 'latchkey-client-')
    // All at once (one compilation): each use is typed independently of the others.
    const fields = ['deliver', 'link', 'refresh_token', 'jwt', 'active', 'rev', 'code']
    let renamed = generated
    for (const field of fields) {
      const key = new RegExp(`^(\\s+(?:- )?)${field}(:?)$`, 'gm')
      t.match(renamed, key, `${field} is in the document`)
      renamed = renamed.replace(key, `$1${field}_renamed$2`)
    }
    writeFileSync(join(dir, 'schema.d.ts'), astToString(await openapiTS(renamed)))
    const errors = compileWalkthrough(dir)
    for (const field of fields) {
      t.ok(
        errors.some((e) => e.includes(`'${field}'`)),
        `renaming ${field} breaks the build`,
      )
    }
  },
)

// ---------------------------------------------------------------------------------------------

/** The command-line script of a package the project depends on. */
function bin(name: string): string {
  const manifest = JSON.parse(
    readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8'),
  )
  const scripts: Record<string, string> = manifest.bin
  return join(root, 'node_modules', name, Object.values(scripts)[0] as string)
}

interface LintReport {
  totals: { errors: number; warnings: number; ignored: number }
  problems: { ruleId: string; message: string; location: { pointer: string }[] }[]
}

/** The project's Redocly CLI with the committed redocly.yaml, as CI runs it. */
async function redoclyLint(file: string): Promise<LintReport> {
  const args = [
    bin('@redocly/cli'),
    'lint',
    file,
    '--config',
    join(root, 'redocly.yaml'),
    '--format',
    'json',
  ]
  const env = { ...process.env, REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', REDOCLY_TELEMETRY: 'off' }
  // Exits non-zero when it finds problems; the report is on stdout all the same.
  const { code, stdout, stderr } = await run(process.execPath, args, { env, timeoutMs: 0 })
  if (!stdout) throw new Error(`redocly exited ${code} without a report:\n${stderr}`)
  return JSON.parse(stdout)
}

/**
 * The README walkthrough (issue a link with deliver "none", verify it, see it refused the second
 * time, refresh, introspect, revoke, introspect again) written against the generated types only.
 * `send` carries one call; the types decide what may be sent and read.
 */
const WALKTHROUGH = `
import type { components, operations } from './schema.js'

type Op = operations
type Body<O extends keyof Op> = Op[O] extends { requestBody: { content: { 'application/json': infer B } } }
  ? B
  : undefined
type Params<O extends keyof Op> = Op[O]['parameters'] extends { path: infer P } ? P : undefined
type Answer<O extends keyof Op, S extends keyof Op[O]['responses']> =
  Op[O]['responses'][S] extends { content: infer C } ? C[keyof C] : undefined

export type Send = (
  operationId: keyof Op,
  params: Record<string, string> | undefined,
  body: unknown,
) => Promise<{ status: number; body: unknown }>

export async function walkthrough(send: Send) {
  async function call<O extends keyof Op, S extends keyof Op[O]['responses'] & number>(
    operationId: O,
    status: S,
    body: Body<O>,
    params?: Params<O>,
  ): Promise<Answer<O, S>> {
    const answer = await send(operationId, params as Record<string, string> | undefined, body)
    if (answer.status !== status) throw new Error(operationId + ' answered ' + answer.status)
    return answer.body as Answer<O, S>
  }

  const issued = await call('issueLink', 202, { email: 'ada@example.com', deliver: 'none' })
  const link: string = issued.link ?? ''
  const token = link.slice(link.indexOf('token=') + 'token='.length)

  const verified = await call('verifyLink', 200, { token })
  if (verified.session === null) throw new Error('a login link opens a session')
  const userId: string = verified.user.id
  const used = await call('verifyLink', 401, { token })
  const reused: components['schemas']['Problem']['code'] = used.code

  const refreshed = await call('refreshSession', 200, {
    refresh_token: verified.session.refresh_token,
  })
  const jwt: string = refreshed.jwt
  const before = await call('introspectSession', 200, { jwt })
  const revoked = await call('revokeUser', 200, undefined, { id: userId })
  const after = await call('introspectSession', 200, { jwt })

  // @ts-expect-error: a link is for an email address or a user id, so one of them is needed.
  const nobody: Body<'issueLink'> = { deliver: 'none' }
  // @ts-expect-error: codes are the documented enum, not any string.
  const unknownCode: components['schemas']['Problem']['code'] = 'no_such_code'
  void nobody
  void unknownCode

  return { reused, activeBefore: before.active, rev: revoked.rev, activeAfter: after.active }
}
`

type Walkthrough = (
  send: (
    operationId: string,
    params: Record<string, string> | undefined,
    body: unknown,
  ) => Promise<{ status: number; body: unknown }>,
) => Promise<unknown>

const compilerOptions: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2022.d.ts'],
  types: [],
}
// The standard library is parsed once for every compilation of the walkthrough.
const host = ts.createCompilerHost(compilerOptions)
const libraries = new Map<string, ts.SourceFile | undefined>()
const readSource = host.getSourceFile.bind(host)
host.getSourceFile = (fileName, ...rest) => {
  if (!fileName.includes('/typescript/lib/')) return readSource(fileName, ...rest)
  if (!libraries.has(fileName)) libraries.set(fileName, readSource(fileName, ...rest))
  return libraries.get(fileName)
}

/** Type-checks the walkthrough against dir/schema.d.ts: the errors, if any. */
function compileWalkthrough(dir: string): string[] {
  writeFileSync(join(dir, 'walkthrough.ts'), WALKTHROUGH)
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}')
  const program = ts.createProgram([join(dir, 'walkthrough.ts')], compilerOptions, host)
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
}

/** The walkthrough as JavaScript: its types erased, nothing else changed. */
async function loadWalkthrough(dir: string): Promise<Walkthrough> {
  const js = ts.transpileModule(WALKTHROUGH, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  }).outputText
  const file = join(dir, 'walkthrough.mjs')
  writeFileSync(file, js)
  return ((await import(pathToFileURL(file).href)) as { walkthrough: Walkthrough }).walkthrough
}
