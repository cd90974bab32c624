import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { until } from '../helpers/poll.js'
import {
  childEnv,
  freePort,
  healthy,
  mustRun,
  ROOT as root,
  startProcess,
} from '../helpers/process.js'
import { tempDir } from '../helpers/temp.js'

/**
 * The README's walkthrough, run as written against a real `npm start`: the only change is the
 * port, so the test does not fight over 3000 with anything else on the machine.
 */
const readme = readFileSync(join(root, 'README.md'), 'utf8')
const section = readme.slice(readme.indexOf('## Walkthrough'), readme.indexOf('## API'))
const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] as string)

t.test('the README walkthrough works as written', async (t) => {
  t.ok(blocks.length >= 5, 'the walkthrough has its shell blocks')
  const [serverBlock, ...clientBlocks] = blocks
  const port = await freePort()
  const dataDir = tempDir(t, 'latchkey-readme-')
  startProcess(t, 'bash', ['-c', serverBlock as string], {
    env: childEnv({ PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn' }),
    group: true,
  })

  const base = `http://localhost:${port}`
  await until(() => healthy(base), 'the service to start')

  const script = clientBlocks.join('\n').replaceAll('localhost:3000', `localhost:${port}`)
  const { stdout } = await mustRun('bash', ['-euo', 'pipefail', '-c', script], {
    env: childEnv(),
    timeoutMs: 0,
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
