// `npm start` runs the compiled service; this builds it first when dist/ is missing, unfinished
// or older than any source file, so a fresh clone starts with `npm install && npm start`.
import { execFileSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join } from 'node:path'

// A build is complete once copy-assets.mjs has stamped it, last; the stamp goes first when a
// build starts. So a build cut off half-way, or one still being written by another run, is
// never taken for a finished one, however new its files are.
const STAMP = 'dist/.built'
// Two runs at once (the bench and soak tests run side by side) build once: the second waits for
// the first, whose files it would otherwise rewrite under a server already reading them, and then
// finds dist/ up to date. The lock holds its holder's pid, so one that died holding it is seen.
const LOCK = 'node_modules/.cache/latchkey-build.lock'
/** A lock still empty this long after it was made lost its holder before the pid was written. */
const EMPTY_LOCK_MS = 5_000
/** Longer than any build takes: past it, waiting fails rather than hanging a test run. */
const WAIT_MS = 10 * 60_000

const newest = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce((latest, entry) => {
    const path = join(dir, entry.name)
    const time = entry.isDirectory() ? newest(path) : statSync(path).mtimeMs
    return Math.max(latest, time)
  }, 0)

const stale = () =>
  !existsSync(STAMP) ||
  statSync(STAMP).mtimeMs < Math.max(newest('src'), statSync('tsconfig.json').mtimeMs)

function build() {
  process.stdout.write('Building latchkey…\n')
  rmSync(STAMP, { force: true })
  // The same two steps as `npm run build`, run directly so this works without npm on the PATH.
  const run = (...args) => execFileSync(process.execPath, args, { stdio: 'inherit' })
  run('node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json')
  run('scripts/copy-assets.mjs')
}

const ME = String(process.pid)

/** The lock's holder: its pid, '' while it is being written, undefined when there is no lock. */
function holder() {
  try {
    return readFileSync(LOCK, 'utf8')
  } catch {
    return undefined
  }
}

/** Takes the lock, or clears one whose holder is gone; true once it is this process's. */
function take() {
  try {
    writeFileSync(LOCK, ME, { flag: 'wx' })
    return true
  } catch (error) {
    if (error.code !== 'EEXIST') throw error
  }
  const pid = holder()
  if (pid === undefined) return false
  const gone =
    pid === ''
      ? Date.now() - statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs > EMPTY_LOCK_MS
      : !alive(Number(pid))
  // Cleared only if it still names the holder found gone: another waiter may have replaced it.
  if (gone && holder() === pid) rmSync(LOCK, { force: true })
  return false
}

function alive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return error.code === 'EPERM'
  }
}

if (stale()) {
  mkdirSync(dirname(LOCK), { recursive: true })
  const until = Date.now() + WAIT_MS
  let told = false
  while (!take()) {
    if (Date.now() > until) throw new Error(`gave up waiting for the build by pid ${holder()}`)
    const pid = holder()
    if (!told && pid) {
      process.stdout.write(`Waiting for the build by pid ${pid}…\n`)
      told = true
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200)
  }
  try {
    if (stale()) build()
  } finally {
    if (holder() === ME) rmSync(LOCK, { force: true })
  }
}
