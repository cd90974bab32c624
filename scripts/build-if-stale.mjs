// `npm start` runs the compiled service; this builds it first when dist/ is missing or older than
// any source file, so a fresh clone starts with `npm install && npm start`.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const newest = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce((latest, entry) => {
    const path = join(dir, entry.name)
    const time = entry.isDirectory() ? newest(path) : statSync(path).mtimeMs
    return Math.max(latest, time)
  }, 0)

const built = existsSync('dist/cli.js') ? newest('dist') : 0
if (built < Math.max(newest('src'), statSync('tsconfig.json').mtimeMs)) {
  process.stdout.write('Building latchkey…\n')
  // The same two steps as `npm run build`, run directly so this works without npm on the PATH.
  const run = (...args) => execFileSync(process.execPath, args, { stdio: 'inherit' })
  run('node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json')
  run('scripts/copy-assets.mjs')
}
