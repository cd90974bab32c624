import type { Store } from '../../src/store/index.js'
import { openSqliteStore } from '../../src/store/sqlite/index.js'

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
