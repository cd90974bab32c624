import { type DestinationStream, type Logger, pino } from 'pino'
import { pathOf } from './problem.js'

/**
 * Request logs name the method, the path and the client, never the query string (links carry
 * their token there), headers (Authorization, Cookie) or bodies (tokens, JWTs). Redaction is the
 * second line, for anything that logs a request some other way.
 */
export function loggerOptions(level: string) {
  return {
    level,
    serializers: {
      req: (req: { method: string; url: string; id: string; ip: string }) => ({
        method: req.method,
        path: pathOf(req.url),
        reqId: req.id,
        remoteAddress: req.ip,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["svix-signature"]',
        'req.query',
        'req.body',
        'res.headers["set-cookie"]',
        '*.token',
        '*.jwt',
        '*.refresh_token',
        '*.link',
      ],
      censor: '[redacted]',
    },
  }
}

/** The service's one logger: Fastify's, and the parts built before it (the limits' warnings). */
export function appLogger(level: string, stream?: DestinationStream): Logger {
  return pino(loggerOptions(level), stream)
}
