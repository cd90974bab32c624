// `npm start` runs the compiled service; this builds it first when dist/ is missing or older than
// any source file, so a fresh clone starts with `npm install && npm start`.
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

// Two runs at once (the bench and soak tests run side by side) build once: the second waits for
// the first, whose files it would otherwise rewrite under a server already reading them, and then
// finds dist/ up to date. The lock holds the holder's pid, so one that died holding it is seen.
const LOCK = 'node_modules/.cache/latchkey-build.lock'

const newest = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce((latest, entry) => {
    const path = join(dir, entry.name)
    const time = entry.isDirectory() ? newest(path) : statSync(path).mtimeMs
    return Math.max(latest, time)
  }, 0)

const stale = () => {
  const built = existsSync('dist/cli.js') ? newest('dist') : 0
  return built < Math.max(newest('src'), statSync('tsconfig.json').mtimeMs)
}

function build() {
  process.stdout.write('Building latchkey…\n')
  // The same two steps as `npm run build`, run directly so this works without npm on the PATH.
  const run = (...args) => execFileSync(process.execPath, args, { stdio: 'inherit' })
  run('node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json')
  run('scripts/copy-assets.mjs')
}

/** Takes the lock, or frees it from a holder that has died; true once it is this process's. */
function take() {
  try {
    writeFileSync(LOCK, String(process.pid), { flag: 'wx' })
    return true
  } catch (error) {
    if (error.code !== 'EEXIST') throw error
  }
  let holder = 0
  try {
    // Empty for a moment after its holder created it.
    holder = Number(readFileSync(LOCK, 'utf8'))
  } catch {
    return false
  }
  if (holder > 0 && !alive(holder)) rmSync(LOCK, { force: true })
  return false
}

function alive(pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return error.code === 'EPERM'
  }
}

if (stale()) {
  mkdirSync(dirname(LOCK), { recursive: true })
  while (!take()) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200)
  try {
    if (stale()) build()
  } finally {
    rmSync(LOCK, { force: true })
  }
}
