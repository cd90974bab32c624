import { writeFileSync } from 'node:fs'
import { renderOpenApi } from './openapi.js'

writeFileSync(new URL('../openapi.yaml', import.meta.url), await renderOpenApi())
process.stdout.write('openapi.yaml written\n')
