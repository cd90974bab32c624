import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import type { App } from '../../src/http/types.js'
import { asService, tokenOf } from './app.js'

type Payload = Record<string, unknown>
type Headers = InjectOptions['headers']

/** POST /v1/links as it is: the raw answer, whatever its status. */
export const postLink = (app: App, payload: Payload, headers: Headers = asService) =>
  app.inject({ method: 'POST', url: '/v1/links', headers, payload })

/** POST /v1/links/verify: the raw answer, whatever its status. */
export const postVerify = (app: App, payload: Payload, headers: Headers = asService) =>
  app.inject({ method: 'POST', url: '/v1/links/verify', headers, payload })

/** The 202 answer to POST /v1/links with deliver "none". */
export interface IssueBody {
  user_id: string
  expires_at: number
  delivery: string
  link: string
}

export interface IssuedLink {
  userId: string
  token: string
  link: string
  body: IssueBody
}

/** The parts of a 202 answer to POST /v1/links with deliver "none". */
export function linkParts(res: LightMyRequestResponse): IssuedLink {
  const body: IssueBody = res.json()
  return { userId: body.user_id, token: tokenOf(body.link), link: body.link, body }
}

/**
 * Issues a link, deliver "none" unless the payload says otherwise, and returns its parts.
 * Throws unless the answer is 202: for setup, where the issue itself is not under test.
 */
export async function apiLink(app: App, payload: Payload): Promise<IssuedLink> {
  const res = await postLink(app, { deliver: 'none', ...payload })
  if (res.statusCode !== 202) throw new Error(`issue failed: ${res.statusCode} ${res.body}`)
  return linkParts(res)
}

/**
 * An RFC 9457 problem with our code: the status (or one of several allowed), problem+json, every
 * member with its type, the body's status equal to the answer's, and the code when one is given.
 */
export function assertProblem(
  t: Test,
  res: LightMyRequestResponse,
  status: number | number[],
  code?: string,
): void {
  if (Array.isArray(status)) {
    t.ok(status.includes(res.statusCode), `status ${res.statusCode} is one of ${status}`)
  } else {
    t.equal(res.statusCode, status, `status ${status}`)
  }
  t.match(res.headers['content-type'], /^application\/problem\+json/, 'problem+json')
  const body = res.json()
  for (const member of ['type', 'title', 'detail', 'code'] as const) {
    t.type(body[member], 'string', `${member} is a string`)
  }
  t.type(body.status, 'number', 'status is a number')
  t.equal(body.status, res.statusCode, 'the body repeats the status')
  if (code !== undefined) t.equal(body.code, code, `code ${code}`)
}
