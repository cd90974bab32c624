import { writeFileSync } from 'node:fs'
import { CLIENT_TYPES, renderClientTypes } from './client-types.js'

writeFileSync(CLIENT_TYPES, await renderClientTypes())
process.stdout.write('client/src/api-types.ts written\n')
