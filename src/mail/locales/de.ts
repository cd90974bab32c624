import type { Messages } from './catalogue.js'

/** Deutsch, in der Sie-Form. Zeitangaben stehen im Dativ: sie folgen auf „in“. */
export const de = {
  'layout.footer': 'Passwortlose Anmeldung per E-Mail',
  'common.signInTo': 'Bei {app} anmelden',
  'common.emailLabel': 'E-Mail-Adresse',
  'common.emailPlaceholder': 'name@beispiel.de',
  'common.signingInAs': 'Anmeldung als',
  'common.signOut': 'Abmelden',
  'common.backToSignIn': 'Zurück zur Anmeldung',

  'login.title': 'Anmelden',
  'login.lead':
    'Geben Sie Ihre E-Mail-Adresse ein, und wir senden Ihnen einen Link, mit dem Sie sich anmelden. Kein Passwort nötig.',
  'login.submit': 'Anmeldelink per E-Mail senden',
  'login.invalidEmail': 'Geben Sie eine gültige E-Mail-Adresse ein.',

  'sent.heading': 'Sehen Sie in Ihre E-Mails',
  'sent.lead':
    'Wenn sich {email} bei {app} anmelden kann, ist eine E-Mail mit einem Anmeldelink und einem Code unterwegs.',
  'sent.stepLink':
    'Öffnen Sie den Link auf diesem Gerät in diesem Browser, um sich mit einem Klick anzumelden.',
  'sent.stepCode':
    'Lesen Sie Ihre E-Mails auf einem anderen Gerät? Geben Sie unten den Code aus der E-Mail ein, um sich hier anzumelden.',
  'sent.stepSpam':
    'Es kann eine Minute dauern, bis sie ankommt. Falls nicht, sehen Sie im Spam- oder Junk-Ordner nach.',
  'sent.stepExpiry':
    'Link und Code laufen nach kurzer Zeit ab. Sie können jederzeit einen neuen anfordern.',
  'sent.codeLabel': 'Anmeldecode',
  'sent.codeSubmit': 'Mit Code anmelden',
  'sent.wrongCode':
    'Dieser Code hat nicht funktioniert. Prüfen Sie ihn und versuchen Sie es erneut, oder verwenden Sie den Link in der E-Mail.',
  'sent.wrongAddress': 'Falsche Adresse?',
  'sent.otherAddress': 'Andere Adresse verwenden',

  'confirm.title': 'Anmeldung bestätigen',
  'confirm.lead': 'Sie haben einen Anmeldelink für dieses Konto geöffnet.',
  'confirm.submit': 'Weiter',
  'confirm.note':
    'Dieser Schritt verhindert, dass E-Mail-Scanner Ihren Link verwenden. Es passiert nichts, bevor Sie fortfahren.',

  'elsewhere.heading': 'Auf diesem Gerät anmelden?',
  'elsewhere.lead':
    'Dieser Anmeldelink wurde in einem anderen Browser oder auf einem anderen Gerät angefordert.',
  'elsewhere.warning': 'Wenn Sie ihn nicht angefordert haben, schließen Sie diese Seite.',
  'elsewhere.warningNote': 'Niemand wird angemeldet, solange Sie nicht fortfahren.',
  'elsewhere.submit': 'Ja, hier anmelden',

  'signedIn.title': 'Angemeldet',
  'signedIn.heading': 'Sie sind angemeldet',
  'signedIn.lead': 'Sie sind bei {app} als {email} angemeldet.',
  'signedIn.note': 'Sie können diese Seite schließen und zu {app} zurückkehren.',

  'logout.heading': 'Von {app} abmelden?',
  'logout.lead': 'Um wiederzukommen, brauchen Sie einen neuen Anmeldelink.',

  'linkError.token_invalid.heading': 'Dieser Link funktioniert nicht',
  'linkError.token_invalid.sentence':
    'Der Link wurde auf dem Weg zu Ihnen vielleicht gekürzt oder verändert. Öffnen Sie ihn noch einmal direkt aus der E-Mail, oder fordern Sie einen neuen an.',
  'linkError.token_expired.heading': 'Dieser Link ist abgelaufen',
  'linkError.token_expired.sentence':
    'Anmeldelinks gelten nur kurze Zeit, und dieser ist abgelaufen.',
  'linkError.token_used.heading': 'Dieser Link wurde bereits verwendet',
  'linkError.token_used.sentence':
    'Jeder Anmeldelink funktioniert nur einmal. Dieser wurde bereits verwendet, oder danach wurde ein neuerer Link verwendet.',
  'linkError.token_revoked.heading': 'Dieser Link wurde widerrufen',
  'linkError.token_revoked.sentence':
    'Die Anmeldelinks und Sitzungen dieses Kontos wurden beendet, daher funktionieren zuvor gesendete Links nicht mehr.',
  'linkError.user_disabled.heading': 'Mit diesem Konto ist keine Anmeldung möglich',
  'linkError.user_disabled.sentence':
    'Das Konto, zu dem dieser Link gehört, wurde deaktiviert. Wenn Sie das für einen Fehler halten, wenden Sie sich an die Betreiber dieses Dienstes.',
  'linkError.ip_mismatch.heading': 'Öffnen Sie diesen Link im selben Netzwerk',
  'linkError.ip_mismatch.sentence':
    'Zu Ihrer Sicherheit funktioniert dieser Link nur in dem Netzwerk, in dem er angefordert wurde. Fordern Sie dort, wo Sie jetzt sind, einen neuen Link an.',
  'linkError.resend': 'Neuen Link per E-Mail senden',
  'linkError.resendNote':
    'Wir senden einen neuen Link an dieselbe Adresse. Öffnen Sie ihn in diesem Browser.',
  'linkError.otherAddress': 'Oder eine andere Adresse verwenden',
  'linkError.newLink': 'Neuen Anmeldelink anfordern',
  'linkError.submit': 'Neuen Link senden',

  'report.heading': 'Sie wollten sich nicht anmelden?',
  'report.lead':
    'Jemand wollte sich als {email} bei {app} anmelden. Wenn Sie das nicht waren, können Sie es hier stoppen.',
  'report.stop': 'Diese Anmelde-E-Mails stoppen',
  'report.stopNote':
    'Damit werden die bereits gesendeten Anmeldelinks und Codes ungültig, und Anmelde-E-Mails an diese Adresse werden für 24 Stunden ausgesetzt. Ihre bestehenden Sitzungen bleiben angemeldet.',
  'report.worried': 'Befürchten Sie, dass jemand angemeldet ist?',
  'report.endSessions': 'Mich auch überall abmelden',
  'report.endSessionsNote':
    'Bewirkt dasselbe und beendet zusätzlich jede Sitzung dieses Kontos, auf allen Geräten. Um wiederzukommen, brauchen Sie einen neuen Anmeldelink.',

  'reported.title': 'Anmelde-E-Mails ausgesetzt',
  'reported.heading': 'Danke, wir haben es gestoppt',
  'reported.lead': 'Anmelde-E-Mails an {email} sind für 24 Stunden ausgesetzt.',
  'reported.linksVoid': 'Die bereits gesendeten Anmeldelinks und Codes funktionieren nicht mehr.',
  'reported.sessionsEnded': 'Alle Sitzungen dieses Kontos wurden beendet, auf allen Geräten.',
  'reported.sessionsKept': 'Ihre bestehenden Sitzungen bleiben angemeldet.',
  'reported.after': 'Nach 24 Stunden können wieder Anmelde-E-Mails angefordert werden.',
  'reported.later': 'Möchten Sie sich später selbst anmelden?',
  'reported.loginLink': 'Zur Anmeldeseite',

  'forbidden.heading': 'Anfrage blockiert',
  'forbidden.crossSite':
    'Dieses Formular wurde nicht von dieser Website gesendet, oder die Seite war zu lange geöffnet. Bitte beginnen Sie von vorn.',
  'forbidden.unreadable':
    'Diese Anfrage konnte nicht gelesen werden. Bitte kehren Sie zur Anmeldeseite zurück und beginnen Sie von vorn.',
  'forbidden.noTarget':
    'Dieser Anmeldelink sagt nicht, zu welcher Anwendung er zurückführt. Bitte beginnen Sie noch einmal in der Anwendung.',
  'forbidden.note':
    'Zum Schutz Ihres Kontos funktionieren Anmeldeformulare nur, wenn sie von den Seiten dieser Website gesendet werden.',

  'rateLimited.stillWorks':
    'Falls ein Anmeldelink gesendet wurde, funktioniert er weiterhin: Sehen Sie in Ihrem Posteingang nach, auch im Spam- oder Junk-Ordner.',
  'rateLimited.recipient.heading': 'Zu viele Anmelde-E-Mails',
  'rateLimited.recipient.sentence':
    'Für diese Adresse wurden zu viele Anmelde-E-Mails angefordert. Versuchen Sie es in {wait} erneut.',
  'rateLimited.form.heading': 'Zu viele Anmelde-E-Mails',
  'rateLimited.form.sentence':
    'Aus Ihrem Netzwerk wurden zu viele Anmelde-E-Mails angefordert. Versuchen Sie es in {wait} erneut.',
  'rateLimited.code.heading': 'Zu viele Codes ausprobiert',
  'rateLimited.code.sentence':
    'Für diese Adresse wurden zu viele Anmeldecodes ausprobiert. Versuchen Sie es in {wait} erneut.',
  'rateLimited.code.note':
    'Der Link in der E-Mail funktioniert weiterhin, bis er abläuft: Öffnen Sie ihn, um sich anzumelden.',
  'rateLimited.ip.heading': 'Zu viele Anfragen',
  'rateLimited.ip.sentence':
    'Aus Ihrem Netzwerk kamen in kurzer Zeit zu viele Anfragen. Versuchen Sie es in {wait} erneut.',
  'rateLimited.ip.note':
    'Diese Grenze schützt die Menschen, die diesen Dienst nutzen. Es genügt, einen Moment zu warten.',

  'unavailable.title': 'Anmeldung nicht verfügbar',
  'unavailable.heading': 'Die Anmeldung ist kurz nicht verfügbar',
  'unavailable.lead':
    'Etwas auf unserer Seite antwortet gerade nicht. Es wurde nichts geändert: Falls Sie sich gerade anmelden wollten, funktioniert Ihr Link weiterhin.',
  'unavailable.retry': 'Erneut versuchen',
  'unavailable.note': 'Bitte warten Sie eine Minute, bevor Sie es erneut versuchen.',

  'duration.seconds': { one: '{count} Sekunde', other: '{count} Sekunden' },
  'duration.minutes': { one: '{count} Minute', other: '{count} Minuten' },
  'duration.hours': { one: '{count} Stunde', other: '{count} Stunden' },
  'duration.days': { one: '{count} Tag', other: '{count} Tagen' },

  'email.subject': 'Bei {app} anmelden',
  'email.heading': 'Ihr Anmeldelink',
  'email.lead': 'Melden Sie sich mit der Schaltfläche unten bei {app} an.',
  'email.textLead': 'Öffnen Sie diesen Link, um die Anmeldung abzuschließen:',
  'email.code': 'Oder geben Sie diesen Code dort ein, wo Sie den Link angefordert haben:',
  'email.validityBoth':
    'Verwenden Sie den Link oder den Code, nur einmal: Beide laufen in {duration} ab.',
  'email.validityOnce': 'Dieser Link funktioniert nur einmal und läuft in {duration} ab.',
  'email.validity': 'Dieser Link läuft in {duration} ab.',
  'email.copy':
    'Falls die Schaltfläche nicht funktioniert, kopieren Sie diese Adresse in Ihren Browser:',
  'email.ignore':
    'Wenn Sie das nicht angefordert haben, können Sie diese E-Mail ignorieren; ohne den Link kann sich niemand anmelden.',
  'email.ignoreCode':
    'Wenn Sie das nicht angefordert haben, können Sie diese E-Mail ignorieren; ohne den Link oder den Code kann sich niemand anmelden.',
  'email.report':
    'Nicht von Ihnen angefordert? {link}, dann stoppen wir diese E-Mails für einen Tag.',
  'email.reportAction': 'Sagen Sie uns Bescheid',
  'email.reportText':
    'Nicht von Ihnen angefordert? Sagen Sie uns Bescheid, dann stoppen wir diese E-Mails für einen Tag:',
  'email.footer': 'Von {app} an {to} gesendet.',
} as const satisfies Messages
