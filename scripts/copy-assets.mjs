// The second half of `npm run build`: tsc emits only JavaScript, so every other file under src/
// (the email templates, *.eta) is copied to the same place under dist/, where the compiled
// modules look for it next to themselves. Last, it stamps the build complete (dist/.built): see
// build-if-stale.mjs, which trusts a build by its stamp, never by its files' times.
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'

const SRC = 'src'
const OUT = 'dist'

function copyAssets(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) copyAssets(path)
    else if (entry.isFile() && !entry.name.endsWith('.ts')) {
      const target = join(OUT, relative(SRC, path))
      mkdirSync(dirname(target), { recursive: true })
      copyFileSync(path, target)
    }
  }
}

copyAssets(SRC)
writeFileSync(join(OUT, '.built'), `${new Date().toISOString()}\n`)
