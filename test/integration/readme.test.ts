import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { childEnv } from '../helpers/child-env.js'
import { freePort } from '../helpers/service.js'

/**
 * The README's walkthrough, run as written against a real `npm start`: the only change is the
 * port, so the test does not fight over 3000 with anything else on the machine.
 */
const root = new URL('../..', import.meta.url).pathname
const readme = readFileSync(join(root, 'README.md'), 'utf8')
const section = readme.slice(readme.indexOf('## Walkthrough'), readme.indexOf('## API'))
const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] as string)

t.test('the README walkthrough works as written', async (t) => {
  t.ok(blocks.length >= 5, 'the walkthrough has its shell blocks')
  const [serverBlock, ...clientBlocks] = blocks
  const port = await freePort()
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-readme-'))
  const server: ChildProcess = spawn('bash', ['-c', serverBlock as string], {
    cwd: root,
    env: childEnv({ PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn' }),
    detached: true,
    stdio: 'ignore',
  })
  t.teardown(() => {
    try {
      if (server.pid) process.kill(-server.pid, 'SIGTERM')
    } catch {
      // already gone
    }
    rmSync(dataDir, { recursive: true, force: true })
  })

  const base = `http://localhost:${port}`
  for (let i = 0; ; i++) {
    if (
      await fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break
    if (i > 600) throw new Error('the service did not start')
    await new Promise((r) => setTimeout(r, 100))
  }

  const script = clientBlocks.join('\n').replaceAll('localhost:3000', `localhost:${port}`)
  const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], {
    cwd: root,
    env: childEnv(),
  })
  const lines = stdout.trim().split('\n')
  t.match(lines[0], new RegExp(`^${base}/login/link\\?token=[A-Za-z0-9_-]{64}$`), 'the link')
  t.match(stdout, /"code":"token_used"/, 'a used link answers token_used')
  t.match(stdout, /valid session for ada@example\.com/, 'the JWT verifies against the JWKS')
  t.match(stdout, /"active":true/, 'introspection before the revoke')
  t.match(stdout, /"rev":1/, 'the revoke')
  t.equal(stdout.match(/"code":"token_revoked"/g)?.length, 2, 'spare link and refresh token die')
  t.match(stdout, /"active":false/, 'introspection after the revoke')
})
