import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import type { Db } from './connection.js'

/**
 * Checkpoints the WAL from a worker thread, so the service's event loop never waits on one.
 *
 * In WAL mode a commit only appends to the log; a checkpoint copies the log back into the
 * database file and syncs both (`synchronous = NORMAL` syncs at checkpoints only). SQLite runs
 * one after the commit that takes the log past `wal_autocheckpoint` pages, on the committing
 * connection: with better-sqlite3 that is the event loop, stalled for two fsyncs every hundred
 * or so sign-ins, every request in flight waiting with it.
 *
 * Here a second connection, in a worker, runs PASSIVE checkpoints while the log has frames to
 * copy: they never block a writer or a reader, and a writer never waits for them. The commit and
 * its durability are the event loop's as before: nothing is batched or deferred. Under a load
 * that never pauses, a passive checkpoint can copy everything but the last few commits and the
 * log cannot start over; the service's own connection therefore keeps an automatic checkpoint,
 * at BACKSTOP_PAGES, which then only has those few frames left to copy.
 */
export interface Checkpointer {
  /** Stops the worker, after the checkpoint it may be running; resolves once it has exited. */
  close(): Promise<void>
}

/** How often the worker looks at the log when nothing was committed since its last look, ms. */
const IDLE_MS = 100
/** ... and while commits keep arriving, ms. */
const BUSY_MS = 10
/** The service connection's own automatic checkpoint (pages of 4 KiB: 40 MiB of log). */
export const BACKSTOP_PAGES = 10_000

/** Runs in the worker (plain CommonJS: the same text under tsx, in tests and from dist). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.file, { fileMustExist: true })
// A passive checkpoint never waits; a lock it cannot take is simply tried again later.
db.pragma('busy_timeout = 0')
let timer
let closing = false
let lastLog = 0
const tick = () => {
  let log = lastLog
  try {
    // [{busy, log, checkpointed}]: the frames in the log, and how many of them are copied.
    log = db.pragma('wal_checkpoint(PASSIVE)')[0]?.log ?? 0
  } catch {
    // The file is locked (a migration, a backup) or gone: the next tick tries again.
  }
  // While commits keep arriving, look again soon, so the service's backstop finds little left.
  const moving = log > 0 && log !== lastLog
  lastLog = log
  if (!closing) timer = setTimeout(tick, moving ? workerData.busyMs : workerData.idleMs)
}
parentPort.on('message', (message) => {
  if (message !== 'close') return
  closing = true
  clearTimeout(timer)
  db.close()
  parentPort.close()
})
tick()
`

/** Starts the worker for the database file `db` has open, and moves `db`'s own checkpoint. */
export function startCheckpointer(db: Db, file: string): Checkpointer {
  db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`)
  const driver = createRequire(import.meta.url).resolve('better-sqlite3')
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { driver, file, idleMs: IDLE_MS, busyMs: BUSY_MS },
    // It holds one statement's worth of state: keep its heap small.
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 },
  })
  // It never keeps the process alive, and a failure in it costs only the background copying.
  worker.unref()
  let failed = false
  worker.on('error', () => {
    failed = true
    if (db.open) db.pragma('wal_autocheckpoint = 1000')
  })
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
  let closing: Promise<void> | undefined
  return {
    close() {
      closing ??= (async () => {
        // Held until it has let go of the file, so a process that is closing waits for it.
        worker.ref()
        if (!failed) worker.postMessage('close')
        await exited
      })()
      return closing
    },
  }
}
