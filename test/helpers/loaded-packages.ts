/**
 * Run as a child process (`node --import tsx test/helpers/loaded-packages.ts <settings JSON>
 * <record file>`): builds the app from the settings given, closes it, and prints the npm
 * packages the process imported, as a JSON array. The recording hook is registered before the
 * app is imported, so nothing the app loads, statically or on demand, escapes it.
 */
import { readFileSync } from 'node:fs'
import { register } from 'node:module'

const [settings, file] = process.argv.slice(2)
if (!settings || !file) throw new TypeError('usage: loaded-packages.ts <settings JSON> <file>')
register('./record-imports.mjs', import.meta.url, { data: { file } })

const { buildApp } = await import('../../src/app.js')
const { loadConfig } = await import('../../src/config/index.js')
const app = await buildApp(loadConfig(JSON.parse(settings)), { outbox: { autoStart: false } })
await app.close()

const packages = new Set<string>()
for (const url of readFileSync(file, 'utf8').split('\n')) {
  const at = url.lastIndexOf('/node_modules/')
  if (at === -1) continue
  const [scope, name] = url.slice(at + '/node_modules/'.length).split('/')
  packages.add(scope?.startsWith('@') ? `${scope}/${name}` : String(scope))
}
process.stdout.write(`${JSON.stringify([...packages].sort())}\n`)
