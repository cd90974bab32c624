// test/e2e/screenshots.ts writes page screenshots to test-results/screenshots (ignored); this copies them to
// docs/screenshots, which the README shows. Run through `npm run screenshots`.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs'

const from = 'test-results/screenshots'
const to = 'docs/screenshots'
mkdirSync(to, { recursive: true })
const files = readdirSync(from).filter((f) => f.endsWith('.png'))
for (const file of files) copyFileSync(`${from}/${file}`, `${to}/${file}`)
process.stdout.write(`${files.length} screenshots copied to ${to}\n`)
