import type { Test } from 'tap'
import type { Store } from '../../src/store/index.js'
import { openSqliteStore } from '../../src/store/sqlite/index.js'
import { build, type TestApp, testConfig } from './app.js'
import { tempDir } from './temp.js'

/** A real SQLite store that writes down the name of every method called on it. */
export function countingStore(file: string, calls: string[]): Store {
  const inner = openSqliteStore(file)
  return new Proxy(inner, {
    get(target, property) {
      const value = Reflect.get(target, property)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        calls.push(String(property))
        return value.apply(target, args)
      }
    },
  })
}

/** A test app on a counting store: `calls` names every store method called, in order. */
export async function countingApp(t: Test): Promise<TestApp & { calls: string[] }> {
  const dataDir = tempDir(t)
  const calls: string[] = []
  const { database } = testConfig(dataDir)
  if (database.kind !== 'sqlite') throw new Error('tests run on SQLite')
  const store = countingStore(database.file, calls)
  t.teardown(() => store.close())
  return { ...(await build(t, { dataDir, overrides: { store } })), calls }
}
