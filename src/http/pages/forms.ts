import Type, { type Static } from 'typebox'
import { offeredRedirect } from '../../auth/redirect.js'

/**
 * What the pages read from their query strings and forms. A person sees a page for whatever a
 * browser sends, never a problem document, so the schemas refuse nothing a form body or a query
 * string can carry: every field is optional, unknown fields pass, and a field sent twice (an
 * array, as form bodies and query strings are parsed) is let through and read as not sent.
 * A missing or odd field then gets the same page as a wrong value. The routes are not in the
 * OpenAPI document (`hide`): these are pages, not an API.
 */
const Field = Type.Union([Type.String(), Type.Array(Type.String())])
type Field = Static<typeof Field>

/** GET /login and GET /logout: where to go afterwards. */
const NextQuerySchema = Type.Object({ next: Type.Optional(Field) })

/** The route schema of a page that shows a form and carries `next` on (GET /login, /logout). */
export const showsForm = { hide: true, querystring: NextQuerySchema }

/** GET /login/link, the link in the email. */
export const LinkQuerySchema = Type.Object({
  token: Type.Optional(Field),
  next: Type.Optional(Field),
})

/** POST /login: the email form. */
export const LoginFormSchema = Type.Object({
  csrf: Type.Optional(Field),
  email: Type.Optional(Field),
  next: Type.Optional(Field),
})

/** POST /login/code: the code form of the "check your email" page. */
export const CodeFormSchema = Type.Object({
  csrf: Type.Optional(Field),
  email: Type.Optional(Field),
  code: Type.Optional(Field),
  next: Type.Optional(Field),
})

/** POST /login/link: the confirm page's button, and the second confirmation's. */
export const ConfirmFormSchema = Type.Object({
  csrf: Type.Optional(Field),
  token: Type.Optional(Field),
  next: Type.Optional(Field),
  elsewhere: Type.Optional(Field),
})

/** POST /login/resend: "Email me a new link" on an expired or used link's page. */
export const ResendFormSchema = Type.Object({
  csrf: Type.Optional(Field),
  token: Type.Optional(Field),
  next: Type.Optional(Field),
})

/** GET /login/report, the "this wasn't me" link in the email. */
export const ReportQuerySchema = Type.Object({ token: Type.Optional(Field) })

/** POST /login/report: either button of the report page (the second adds end_sessions). */
export const ReportFormSchema = Type.Object({
  csrf: Type.Optional(Field),
  token: Type.Optional(Field),
  end_sessions: Type.Optional(Field),
})

/** POST /logout: the sign-out button. */
export const LogoutFormSchema = Type.Object({
  csrf: Type.Optional(Field),
  next: Type.Optional(Field),
})

/** A field's value when it was sent once; absent, repeated or anything else reads as none. */
export function single(field: unknown): string | undefined {
  return typeof field === 'string' ? field : undefined
}

/** A non-empty field, sent once: the `next` a link's pages pass on to the link's check. */
export function given(field: Field | undefined): string | undefined {
  return single(field) || undefined
}

/** The `next` a page was handed, kept only when it is a target we would redirect to. */
export function nextOf(field: unknown, allowedOrigins: readonly string[]): string | undefined {
  return offeredRedirect(single(field), allowedOrigins)
}

/**
 * A member of a body or query string not validated yet, or never to be (the form guard runs
 * before validation; an error may come before it): undefined unless it is there.
 */
export function memberOf(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? Reflect.get(value, name) : undefined
}
