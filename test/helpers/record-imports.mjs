// Module hooks for test/helpers/loaded-packages.ts: every module the process resolves, one URL a
// line, written before the import goes on, so the file is complete once the import has returned.
import { appendFileSync } from 'node:fs'

let file

export function initialize(data) {
  file = data.file
}

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context)
  appendFileSync(file, `${resolved.url}\n`)
  return resolved
}
