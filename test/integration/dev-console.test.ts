import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { generateApiKey } from '../../src/auth/api-keys.js'
import { childEnv } from '../helpers/child-env.js'

/**
 * Development as a person meets it: the service started with no mail configuration prints the
 * emailed link, clickable, on its console, sent by the background outbox worker.
 */
const root = new URL('../..', import.meta.url).pathname

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })

t.test('a requested link appears on the development console', async (t) => {
  const port = await freePort()
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-dev-'))
  const { key, entry } = generateApiKey('dev', 'service')
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    cwd: root,
    // A clean environment: a developer's exported MAIL_TRANSPORT must not turn the log off.
    env: childEnv(
      { PORT: String(port), DATA_DIR: dataDir, API_KEYS: entry, LOG_LEVEL: 'warn' },
      { clean: true },
    ),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk) => {
    output += chunk
  })
  t.teardown(() => {
    child.kill('SIGTERM')
    rmSync(dataDir, { recursive: true, force: true })
  })

  const base = `http://localhost:${port}`
  const until = async (check: () => Promise<boolean> | boolean, what: string) => {
    for (let i = 0; i < 600; i++) {
      if (await check()) return
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error(`timed out waiting for ${what}`)
  }
  await until(
    () =>
      fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      ),
    'the service',
  )

  const res = await fetch(`${base}/v1/links`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'dev@example.com' }),
  })
  t.equal(res.status, 202)
  t.equal(((await res.json()) as { delivery: string }).delivery, 'queued')
  const link = new RegExp(`^${base}/login/link\\?token=[A-Za-z0-9_-]{64}$`, 'm')
  await until(() => link.test(output), 'the link on the console')
  t.match(output, /^To: dev@example\.com$/m)
  t.match(output, link, 'the link stands alone on its line, so terminals make it clickable')
})
