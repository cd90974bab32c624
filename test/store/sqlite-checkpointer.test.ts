import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { BACKSTOP_PAGES } from '../../src/store/sqlite/checkpointer.js'
import { openSqliteStore } from '../../src/store/sqlite/index.js'
import { until } from '../helpers/poll.js'

// The worker copies the log into the database file while the service's connection only appends
// to it: the file grows without the service ever running a checkpoint itself.

const NOW = Date.UTC(2026, 0, 1)

function tempFile(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-checkpoint-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, 'latchkey.db')
}

/** Some writes: a few hundred log frames, below SQLite's automatic checkpoint (1000). */
async function writeSome(store: ReturnType<typeof openSqliteStore>): Promise<void> {
  for (let i = 0; i < 50; i++) await store.findOrCreate(`person${i}@example.com`, NOW)
}

t.test('a background checkpoint moves the log into the file', async (t) => {
  const file = tempFile(t)
  const store = openSqliteStore(file, { checkpointInBackground: true })
  const before = statSync(file).size
  await writeSome(store)
  await until(() => statSync(file).size > before, 'the database file to receive the log')
  t.equal((await store.findByEmail('person49@example.com'))?.email, 'person49@example.com')
  await store.close()
  // Closed cleanly: the worker let go of the file, and everything is there.
  const reopened = openSqliteStore(file)
  t.ok(await reopened.findByEmail('person0@example.com'))
  await reopened.close()
})

t.test('without it, the same writes stay in the log until SQLite checkpoints', async (t) => {
  const file = tempFile(t)
  const store = openSqliteStore(file)
  const before = statSync(file).size
  await writeSome(store)
  t.equal(statSync(file).size, before, 'nothing copied yet')
  await store.close()
})

t.test('the service connection keeps a backstop checkpoint; close is idempotent', async (t) => {
  const file = tempFile(t)
  const store = openSqliteStore(file, { checkpointInBackground: true })
  t.ok(BACKSTOP_PAGES > 1000)
  await store.close()
  await store.close()
})

t.test('an in-memory store starts no worker', async (t) => {
  const store = openSqliteStore(':memory:', { checkpointInBackground: true })
  t.ok(await store.findOrCreate('a@example.com', NOW))
  await store.close()
})
