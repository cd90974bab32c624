import t from 'tap'
import { generateApiKey } from '../../src/auth/api-keys.js'
import { until } from '../helpers/poll.js'
import { startService } from '../helpers/service.js'
import { tempDir } from '../helpers/temp.js'

/**
 * Development as a person meets it: the service started with no mail configuration prints the
 * emailed link, clickable, on its console, sent by the background outbox worker.
 */
t.test('a requested link appears on the development console', async (t) => {
  const dataDir = tempDir(t, 'latchkey-dev-')
  const { key, entry } = generateApiKey('dev', 'service')
  // startService gives a clean environment: a developer's exported MAIL_TRANSPORT cannot turn
  // the log off.
  const s = await startService(t, { DATA_DIR: dataDir, API_KEYS: entry })

  const res = await s.request('/v1/links', { body: { email: 'dev@example.com' }, apiKey: key })
  t.equal(res.status, 202)
  t.equal(((await res.json()) as { delivery: string }).delivery, 'queued')
  // PUBLIC_URL defaults to localhost on the service's port.
  const base = `http://localhost:${s.port}`
  const link = new RegExp(`^${base}/login/link\\?token=[A-Za-z0-9_-]{64}$`, 'm')
  await until(() => link.test(s.output()), 'the link on the console')
  t.match(s.output(), /^To: dev@example\.com$/m)
  t.match(s.output(), link, 'the link stands alone on its line, so terminals make it clickable')
})
