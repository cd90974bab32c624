import { readFileSync } from 'node:fs'
import openapiTS, { astToString } from 'openapi-typescript'

export const CLIENT_TYPES = new URL('../client/src/api-types.ts', import.meta.url)

const HEADER = `// Generated from openapi.yaml by \`npm run client:types\`: do not edit. A test fails when the two
// differ (test/client/types.test.ts).
`

/** latchkey-client's types for the service API, as openapi-typescript makes them from openapi.yaml. */
export async function renderClientTypes(
  document = readFileSync(new URL('../openapi.yaml', import.meta.url), 'utf8'),
): Promise<string> {
  return HEADER + astToString(await openapiTS(document))
}
