/**
 * English, the reference catalogue: every other language has exactly these keys (a type error
 * otherwise, and a test). `{name}` is replaced by a value; an object is a plural, one form per
 * CLDR category of the language (Intl.PluralRules), `{count}` the number. Values are plain text:
 * the templates escape them, and markup around a value is the template's (see rich()).
 */
export const en = {
  'layout.footer': 'Passwordless sign-in by email',
  'common.signInTo': 'Sign in to {app}',
  'common.emailLabel': 'Email address',
  'common.emailPlaceholder': 'you@example.com',
  'common.signingInAs': 'Signing in as',
  'common.signOut': 'Sign out',
  'common.backToSignIn': 'Back to sign in',

  'login.title': 'Sign in',
  'login.lead':
    'Enter your email address and we’ll send you a link that signs you in. No password needed.',
  'login.submit': 'Email me a sign-in link',
  'login.invalidEmail': 'Enter a valid email address.',

  'sent.heading': 'Check your email',
  'sent.lead':
    'If {email} can sign in to {app}, an email with a sign-in link and a code is on its way.',
  'sent.stepLink': 'Open the link on this device, in this browser, to sign in with one click.',
  'sent.stepCode':
    'Reading your email on another device? Type the code from the email below to sign in here.',
  'sent.stepSpam':
    'It can take a minute to arrive. If it doesn’t, look in your spam or junk folder.',
  'sent.stepExpiry':
    'The link and the code expire after a short time. You can always ask for a new one.',
  'sent.codeLabel': 'Sign-in code',
  'sent.codeSubmit': 'Sign in with code',
  'sent.wrongCode': 'That code didn’t work. Check it and try again, or use the link in the email.',
  'sent.wrongAddress': 'Wrong address?',
  'sent.otherAddress': 'Use another address',

  'confirm.title': 'Confirm sign-in',
  'confirm.lead': 'You opened a sign-in link for this account.',
  'confirm.submit': 'Continue',
  'confirm.note':
    'This step keeps email scanners from using your link. Nothing happens until you continue.',

  'elsewhere.heading': 'Sign in on this device?',
  'elsewhere.lead': 'This sign-in link was requested in another browser or on another device.',
  'elsewhere.warning': 'If you did not request it, close this page.',
  'elsewhere.warningNote': 'No one is signed in unless you continue.',
  'elsewhere.submit': 'Yes, sign in here',

  'signedIn.title': 'Signed in',
  'signedIn.heading': 'You’re signed in',
  'signedIn.lead': 'You’re signed in to {app} as {email}.',
  'signedIn.note': 'You can close this page and go back to {app}.',

  'logout.heading': 'Sign out of {app}?',
  'logout.lead': 'You’ll need a new sign-in link to come back.',

  'linkError.token_invalid.heading': 'This link doesn’t work',
  'linkError.token_invalid.sentence':
    'The link may have been cut short or changed on its way to you. Open it again straight from the email, or ask for a new one.',
  'linkError.token_expired.heading': 'This link has expired',
  'linkError.token_expired.sentence':
    'Sign-in links only work for a short time, and this one has run out.',
  'linkError.token_used.heading': 'This link has already been used',
  'linkError.token_used.sentence':
    'Each sign-in link works only once, and this one has been used already, or a newer link was used after it.',
  'linkError.token_revoked.heading': 'This link has been cancelled',
  'linkError.token_revoked.sentence':
    'This account’s sign-in links and sessions were ended, so links sent before then no longer work.',
  'linkError.user_disabled.heading': 'This account can’t sign in',
  'linkError.user_disabled.sentence':
    'The account this link belongs to has been disabled. If you think that is a mistake, contact the people who run this service.',
  'linkError.ip_mismatch.heading': 'Open this link on the same network',
  'linkError.ip_mismatch.sentence':
    'For your safety, this link only works from the network it was requested from. Ask for a new link from where you are now.',
  'linkError.resend': 'Email me a new link',
  'linkError.resendNote': 'We’ll send a fresh link to the same address. Open it in this browser.',
  'linkError.otherAddress': 'Or use another address',
  'linkError.newLink': 'Get a new sign-in link',
  'linkError.submit': 'Send me a new link',

  'report.heading': 'Didn’t ask to sign in?',
  'report.lead':
    'Someone asked to sign in to {app} as {email}. If it wasn’t you, you can stop it here.',
  'report.stop': 'Stop these sign-in emails',
  'report.stopNote':
    'This cancels the sign-in links and codes already sent, and pauses sign-in emails to this address for 24 hours. Your existing sessions stay signed in.',
  'report.worried': 'Worried someone is signed in?',
  'report.endSessions': 'Also sign me out everywhere',
  'report.endSessionsNote':
    'Does the same, and also ends every session of this account, on every device. You’ll need a new sign-in link to come back.',

  'reported.title': 'Sign-in emails paused',
  'reported.heading': 'Thanks, we’ve stopped it',
  'reported.lead': 'Sign-in emails to {email} are paused for 24 hours.',
  'reported.linksVoid': 'The sign-in links and codes already sent no longer work.',
  'reported.sessionsEnded': 'Every session of this account has ended, on every device.',
  'reported.sessionsKept': 'Your existing sessions stay signed in.',
  'reported.after': 'After 24 hours, sign-in emails can be requested again.',
  'reported.later': 'Want to sign in yourself later?',
  'reported.loginLink': 'Go to the sign-in page',

  'forbidden.heading': 'Request blocked',
  'forbidden.crossSite':
    'This form was not sent from this site, or the page was open too long. Please start again.',
  'forbidden.unreadable':
    'This request could not be read. Please go back to the sign-in page and start again.',
  'forbidden.noTarget':
    'This sign-in link does not say which application to return to. Please start again from the application.',
  'forbidden.note':
    'To protect your account, sign-in forms only work when sent from this site’s own pages.',

  'rateLimited.stillWorks':
    'If a sign-in link was sent, it still works: look for it in your inbox, and in your spam or junk folder.',
  'rateLimited.recipient.heading': 'Too many sign-in emails',
  'rateLimited.recipient.sentence':
    'Too many sign-in emails were requested for this address. Try again in {wait}.',
  'rateLimited.form.heading': 'Too many sign-in emails',
  'rateLimited.form.sentence':
    'Too many sign-in emails were requested from your network. Try again in {wait}.',
  'rateLimited.code.heading': 'Too many codes tried',
  'rateLimited.code.sentence':
    'Too many sign-in codes were tried for this address. Try again in {wait}.',
  'rateLimited.code.note':
    'The link in the email still works until it expires: open it to sign in.',
  'rateLimited.ip.heading': 'Too many requests',
  'rateLimited.ip.sentence':
    'Too many requests came from your network in a short time. Try again in {wait}.',
  'rateLimited.ip.note':
    'This limit protects the people who use this service. Waiting a moment is enough.',

  'unavailable.title': 'Sign-in is unavailable',
  'unavailable.heading': 'Sign-in is briefly unavailable',
  'unavailable.lead':
    'Something on our side isn’t answering right now. Nothing was changed: if you were signing in, your link still works.',
  'unavailable.retry': 'Try again',
  'unavailable.note': 'Please wait a minute before trying again.',

  // A length of time as it reads after "in" ("expires in 15 minutes", "try again in 1 hour").
  'duration.seconds': { one: '{count} second', other: '{count} seconds' },
  'duration.minutes': { one: '{count} minute', other: '{count} minutes' },
  'duration.hours': { one: '{count} hour', other: '{count} hours' },
  'duration.days': { one: '{count} day', other: '{count} days' },

  'email.subject': 'Sign in to {app}',
  'email.heading': 'Your sign-in link',
  'email.lead': 'Use the button below to sign in to {app}.',
  'email.textLead': 'Open this link to finish signing in:',
  'email.code': 'Or enter this code where you asked for the link:',
  'email.validityBoth': 'Use the link or the code, once: both expire in {duration}.',
  'email.validityOnce': 'This link works once and expires in {duration}.',
  'email.validity': 'This link expires in {duration}.',
  'email.copy': 'If the button does not work, copy this address into your browser:',
  'email.ignore':
    'If you did not ask for this, you can ignore this email; no one can sign in without the link.',
  'email.ignoreCode':
    'If you did not ask for this, you can ignore this email; no one can sign in without the link or the code.',
  'email.report': 'Didn’t ask for this? {link}, and we’ll stop these emails for a day.',
  'email.reportAction': 'Let us know',
  'email.reportText': 'Didn’t ask for this? Let us know, and we’ll stop these emails for a day:',
  'email.footer': 'Sent to {to} by {app}.',
} as const
