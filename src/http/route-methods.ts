/**
 * The methods each registered route answers, by path pattern, so that a request no route takes
 * can be told apart: a wrong method on a real path (405, with Allow) or an unknown path (404).
 * Fed by an onRoute hook; patterns use Fastify's syntax (`:param` for one segment, `*` for the
 * rest of the path).
 */
export class RouteMethods {
  private readonly routes = new Map<string, { pattern: RegExp; methods: Set<string> }>()

  add(url: string, method: string | string[]): void {
    let route = this.routes.get(url)
    if (route === undefined) {
      route = { pattern: patternOf(url), methods: new Set() }
      this.routes.set(url, route)
    }
    for (const m of [method].flat()) route.methods.add(m.toUpperCase())
  }

  /** Every method some route answers on this (raw, undecoded) path, sorted. */
  of(path: string): string[] {
    const methods = new Set<string>()
    for (const { pattern, methods: answered } of this.routes.values()) {
      if (pattern.test(path)) for (const m of answered) methods.add(m)
    }
    return [...methods].sort()
  }
}

function patternOf(url: string): RegExp {
  const segments = url.split('/').map((segment) => {
    if (segment === '*') return '.*'
    if (segment.startsWith(':')) return '[^/]+'
    return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  })
  return new RegExp(`^${segments.join('/')}$`)
}
