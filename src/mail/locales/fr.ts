import type { Messages } from './catalogue.js'

/**
 * Français, en vouvoiant. Une espace insécable (U+00A0) précède « : ? ; », comme le veut la
 * typographie française, pour que la ponctuation ne passe jamais seule à la ligne.
 */
export const fr = {
  'layout.footer': 'Connexion sans mot de passe par e-mail',
  'common.signInTo': 'Se connecter à {app}',
  'common.emailLabel': 'Adresse e-mail',
  'common.emailPlaceholder': 'vous@exemple.fr',
  'common.signingInAs': 'Connexion en tant que',
  'common.signOut': 'Se déconnecter',
  'common.backToSignIn': 'Retour à la connexion',

  'login.title': 'Connexion',
  'login.lead':
    'Saisissez votre adresse e-mail et nous vous enverrons un lien pour vous connecter. Aucun mot de passe nécessaire.',
  'login.submit': 'Recevoir un lien de connexion',
  'login.invalidEmail': 'Saisissez une adresse e-mail valide.',

  'sent.heading': 'Consultez vos e-mails',
  'sent.lead':
    'Si {email} peut se connecter à {app}, un e-mail contenant un lien de connexion et un code est en route.',
  'sent.stepLink':
    'Ouvrez le lien sur cet appareil, dans ce navigateur, pour vous connecter en un clic.',
  'sent.stepCode':
    'Vous lisez vos e-mails sur un autre appareil\u00a0? Saisissez ci-dessous le code reçu par e-mail pour vous connecter ici.',
  'sent.stepSpam':
    'Il peut mettre une minute à arriver. Sinon, regardez dans vos courriers indésirables.',
  'sent.stepExpiry':
    'Le lien et le code expirent au bout de peu de temps. Vous pouvez toujours en demander un nouveau.',
  'sent.codeLabel': 'Code de connexion',
  'sent.codeSubmit': 'Se connecter avec le code',
  'sent.wrongCode':
    'Ce code n’a pas fonctionné. Vérifiez-le et réessayez, ou utilisez le lien de l’e-mail.',
  'sent.wrongAddress': 'Mauvaise adresse\u00a0?',
  'sent.otherAddress': 'Utiliser une autre adresse',

  'confirm.title': 'Confirmer la connexion',
  'confirm.lead': 'Vous avez ouvert un lien de connexion pour ce compte.',
  'confirm.submit': 'Continuer',
  'confirm.note':
    'Cette étape empêche les analyseurs d’e-mails d’utiliser votre lien. Rien ne se passe tant que vous ne continuez pas.',

  'elsewhere.heading': 'Se connecter sur cet appareil\u00a0?',
  'elsewhere.lead':
    'Ce lien de connexion a été demandé dans un autre navigateur ou sur un autre appareil.',
  'elsewhere.warning': 'Si vous ne l’avez pas demandé, fermez cette page.',
  'elsewhere.warningNote': 'Personne n’est connecté tant que vous ne continuez pas.',
  'elsewhere.submit': 'Oui, me connecter ici',

  'signedIn.title': 'Connexion réussie',
  'signedIn.heading': 'Connexion réussie',
  'signedIn.lead': 'Vous avez ouvert une session sur {app} avec l’adresse {email}.',
  'signedIn.note': 'Vous pouvez fermer cette page et revenir à {app}.',

  'logout.heading': 'Se déconnecter de {app}\u00a0?',
  'logout.lead': 'Il vous faudra un nouveau lien de connexion pour revenir.',

  'linkError.token_invalid.heading': 'Ce lien ne fonctionne pas',
  'linkError.token_invalid.sentence':
    'Le lien a peut-être été tronqué ou modifié en chemin. Ouvrez-le à nouveau directement depuis l’e-mail, ou demandez-en un nouveau.',
  'linkError.token_expired.heading': 'Ce lien a expiré',
  'linkError.token_expired.sentence':
    'Les liens de connexion ne sont valables que peu de temps, et celui-ci a expiré.',
  'linkError.token_used.heading': 'Ce lien a déjà été utilisé',
  'linkError.token_used.sentence':
    'Chaque lien de connexion ne fonctionne qu’une fois\u00a0: celui-ci a déjà été utilisé, ou un lien plus récent a été utilisé après lui.',
  'linkError.token_revoked.heading': 'Ce lien a été annulé',
  'linkError.token_revoked.sentence':
    'Les liens de connexion et les sessions de ce compte ont été révoqués\u00a0: les liens envoyés auparavant ne fonctionnent plus.',
  'linkError.user_disabled.heading': 'Ce compte ne peut pas se connecter',
  'linkError.user_disabled.sentence':
    'Le compte auquel appartient ce lien a été désactivé. Si vous pensez qu’il s’agit d’une erreur, contactez les responsables de ce service.',
  'linkError.ip_mismatch.heading': 'Ouvrez ce lien depuis le même réseau',
  'linkError.ip_mismatch.sentence':
    'Pour votre sécurité, ce lien ne fonctionne que depuis le réseau d’où il a été demandé. Demandez un nouveau lien depuis l’endroit où vous êtes.',
  'linkError.resend': 'Renvoyer un lien par e-mail',
  'linkError.resendNote':
    'Nous enverrons un nouveau lien à la même adresse. Ouvrez-le dans ce navigateur.',
  'linkError.otherAddress': 'Ou utilisez une autre adresse',
  'linkError.newLink': 'Obtenir un nouveau lien de connexion',
  'linkError.submit': 'Envoyer un nouveau lien',

  'report.heading': 'Vous n’avez pas demandé à vous connecter\u00a0?',
  'report.lead':
    'Quelqu’un a demandé à se connecter à {app} avec l’adresse {email}. Si ce n’était pas vous, vous pouvez l’arrêter ici.',
  'report.stop': 'Arrêter ces e-mails de connexion',
  'report.stopNote':
    'Cela annule les liens et codes de connexion déjà envoyés, et suspend les e-mails de connexion vers cette adresse pendant 24\u00a0heures. Vos sessions en cours restent ouvertes.',
  'report.worried': 'Vous craignez que quelqu’un soit connecté\u00a0?',
  'report.endSessions': 'Me déconnecter aussi partout',
  'report.endSessionsNote':
    'Fait la même chose, et ferme aussi toutes les sessions de ce compte, sur tous les appareils. Il vous faudra un nouveau lien de connexion pour revenir.',

  'reported.title': 'E-mails de connexion suspendus',
  'reported.heading': 'Merci, c’est arrêté',
  'reported.lead': 'Les e-mails de connexion vers {email} sont suspendus pendant 24\u00a0heures.',
  'reported.linksVoid': 'Les liens et codes de connexion déjà envoyés ne fonctionnent plus.',
  'reported.sessionsEnded':
    'Toutes les sessions de ce compte ont été fermées, sur tous les appareils.',
  'reported.sessionsKept': 'Vos sessions en cours restent ouvertes.',
  'reported.after':
    'Après 24\u00a0heures, vous pourrez de nouveau demander des e-mails de connexion.',
  'reported.later': 'Vous voulez vous connecter vous-même plus tard\u00a0?',
  'reported.loginLink': 'Aller à la page de connexion',

  'forbidden.heading': 'Requête bloquée',
  'forbidden.crossSite':
    'Ce formulaire n’a pas été envoyé depuis ce site, ou la page est restée ouverte trop longtemps. Veuillez recommencer.',
  'forbidden.unreadable':
    'Cette requête n’a pas pu être lue. Revenez à la page de connexion et recommencez.',
  'forbidden.noTarget':
    'Ce lien de connexion n’indique pas vers quelle application revenir. Veuillez recommencer depuis l’application.',
  'forbidden.note':
    'Pour protéger votre compte, les formulaires de connexion ne fonctionnent que s’ils sont envoyés depuis les pages de ce site.',

  'rateLimited.stillWorks':
    'Si un lien de connexion a été envoyé, il fonctionne toujours\u00a0: cherchez-le dans votre boîte de réception et dans vos courriers indésirables.',
  'rateLimited.recipient.heading': 'Trop d’e-mails de connexion',
  'rateLimited.recipient.sentence':
    'Trop d’e-mails de connexion ont été demandés pour cette adresse. Réessayez dans {wait}.',
  'rateLimited.form.heading': 'Trop d’e-mails de connexion',
  'rateLimited.form.sentence':
    'Trop d’e-mails de connexion ont été demandés depuis votre réseau. Réessayez dans {wait}.',
  'rateLimited.code.heading': 'Trop de codes essayés',
  'rateLimited.code.sentence':
    'Trop de codes de connexion ont été essayés pour cette adresse. Réessayez dans {wait}.',
  'rateLimited.code.note':
    'Le lien de l’e-mail fonctionne jusqu’à son expiration\u00a0: ouvrez-le pour vous connecter.',
  'rateLimited.ip.heading': 'Trop de requêtes',
  'rateLimited.ip.sentence':
    'Votre réseau a envoyé trop de requêtes en peu de temps. Réessayez dans {wait}.',
  'rateLimited.ip.note':
    'Cette limite protège les personnes qui utilisent ce service. Il suffit d’attendre un instant.',

  'unavailable.title': 'Connexion indisponible',
  'unavailable.heading': 'La connexion est momentanément indisponible',
  'unavailable.lead':
    'Quelque chose ne répond pas de notre côté pour le moment. Rien n’a été modifié\u00a0: si vous étiez en train de vous connecter, votre lien fonctionne toujours.',
  'unavailable.retry': 'Réessayer',
  'unavailable.note': 'Veuillez patienter une minute avant de réessayer.',

  'duration.seconds': {
    one: '{count}\u00a0seconde',
    many: '{count}\u00a0de secondes',
    other: '{count}\u00a0secondes',
  },
  'duration.minutes': {
    one: '{count}\u00a0minute',
    many: '{count}\u00a0de minutes',
    other: '{count}\u00a0minutes',
  },
  'duration.hours': {
    one: '{count}\u00a0heure',
    many: '{count}\u00a0d’heures',
    other: '{count}\u00a0heures',
  },
  'duration.days': {
    one: '{count}\u00a0jour',
    many: '{count}\u00a0de jours',
    other: '{count}\u00a0jours',
  },

  'email.subject': 'Se connecter à {app}',
  'email.heading': 'Votre lien de connexion',
  'email.lead': 'Utilisez le bouton ci-dessous pour vous connecter à {app}.',
  'email.textLead': 'Ouvrez ce lien pour terminer la connexion\u00a0:',
  'email.code': 'Ou saisissez ce code là où vous avez demandé le lien\u00a0:',
  'email.validityBoth':
    'Utilisez le lien ou le code, une seule fois\u00a0: tous deux expirent dans {duration}.',
  'email.validityOnce': 'Ce lien ne fonctionne qu’une fois et expire dans {duration}.',
  'email.validity': 'Ce lien expire dans {duration}.',
  'email.copy': 'Si le bouton ne fonctionne pas, copiez cette adresse dans votre navigateur\u00a0:',
  'email.ignore':
    'Si vous n’avez rien demandé, vous pouvez ignorer cet e-mail\u00a0; personne ne peut se connecter sans le lien.',
  'email.ignoreCode':
    'Si vous n’avez rien demandé, vous pouvez ignorer cet e-mail\u00a0; personne ne peut se connecter sans le lien ou le code.',
  'email.report':
    'Vous n’avez rien demandé\u00a0? {link}, et nous suspendrons ces e-mails pendant une journée.',
  'email.reportAction': 'Signalez-le-nous',
  'email.reportText':
    'Vous n’avez rien demandé\u00a0? Signalez-le-nous, et nous suspendrons ces e-mails pendant une journée\u00a0:',
  'email.footer': 'Envoyé à {to} par {app}.',
} as const satisfies Messages
