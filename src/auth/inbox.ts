/**
 * Domains whose mailboxes ignore dots in the local part, and which deliver to one another: every
 * spelling of `j.doe@gmail.com` (`jdoe`, `j.d.o.e`, at googlemail.com) reaches one person.
 */
const GMAIL_DOMAINS = new Set(['gmail.com', 'googlemail.com'])

/**
 * The inbox a normalised address delivers to, as far as the email budget is concerned:
 * lower-cased and without a `+tag` in the local part (`Ada+news@Example.com` → `ada@example.com`);
 * at Gmail also without dots, and googlemail.com is gmail.com. Users stay distinct (each spelling
 * is an account of its own); only the budget is shared. Counting a few distinct mailboxes
 * together would be harmless; letting one inbox take many budgets is not.
 */
export function inboxOf(email: string): string {
  const lower = email.toLowerCase()
  const at = lower.lastIndexOf('@')
  if (at === -1) return lower
  let local = lower.slice(0, at)
  let domain = lower.slice(at + 1)
  const plus = local.indexOf('+')
  // A local part that starts with + (`+tag@x`) is an address of its own, kept whole.
  if (plus > 0) local = local.slice(0, plus)
  if (GMAIL_DOMAINS.has(domain)) {
    local = local.replaceAll('.', '')
    domain = 'gmail.com'
  }
  return `${local}@${domain}`
}

/**
 * The one mailbox a normalised address names, as a bounce speaks of it: lower-cased, the `+tag`
 * kept. A bounce says that this exact address does not exist, not that its inbox does not: many
 * servers refuse `ada+x@corp.example` and deliver to `ada@corp.example`, so a bounce suppressed
 * for the whole inbox would let anyone shut a person's sign-in emails off with one form post.
 */
export function mailboxOf(email: string): string {
  return email.toLowerCase()
}

/**
 * The addresses of the suppression list that can cover `email`: its inbox (a complaint, a
 * "this wasn't me" pause) and its exact mailbox (a bounce).
 */
export function suppressionKeys(email: string): [inbox: string, mailbox: string] {
  return [inboxOf(email), mailboxOf(email)]
}

/**
 * The domain of an address as the scanner telemetry groups it (link-stats.ts): lower-cased, and
 * googlemail.com is gmail.com, as for the inbox. The domain names the mail provider, whose
 * scanners are what the statistics are about; never the person.
 */
export function emailDomain(email: string): string {
  const inbox = inboxOf(email)
  return inbox.slice(inbox.lastIndexOf('@') + 1)
}
