import { readFileSync, writeFileSync } from 'node:fs'
import { withConfigTable } from './config-doc.js'

const readme = new URL('../README.md', import.meta.url)
writeFileSync(readme, withConfigTable(readFileSync(readme, 'utf8')))
process.stdout.write('README.md configuration table written\n')
