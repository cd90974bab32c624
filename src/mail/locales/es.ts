import type { Messages } from './catalogue.js'

/** Español, tuteando, como la mayoría de los servicios en línea. */
export const es = {
  'layout.footer': 'Inicio de sesión sin contraseña por correo electrónico',
  'common.signInTo': 'Inicia sesión en {app}',
  'common.emailLabel': 'Correo electrónico',
  'common.emailPlaceholder': 'tu@ejemplo.com',
  'common.signingInAs': 'Iniciando sesión como',
  'common.signOut': 'Cerrar sesión',
  'common.backToSignIn': 'Volver al inicio de sesión',

  'login.title': 'Iniciar sesión',
  'login.lead':
    'Escribe tu correo electrónico y te enviaremos un enlace para iniciar sesión. Sin contraseñas.',
  'login.submit': 'Enviarme un enlace de acceso',
  'login.invalidEmail': 'Escribe una dirección de correo válida.',

  'sent.heading': 'Revisa tu correo',
  'sent.lead':
    'Si {email} puede iniciar sesión en {app}, ya va de camino un correo con un enlace de acceso y un código.',
  'sent.stepLink':
    'Abre el enlace en este dispositivo, en este navegador, para iniciar sesión con un clic.',
  'sent.stepCode':
    '¿Lees el correo en otro dispositivo? Escribe abajo el código del correo para iniciar sesión aquí.',
  'sent.stepSpam':
    'Puede tardar un minuto en llegar. Si no llega, busca en la carpeta de spam o correo no deseado.',
  'sent.stepExpiry':
    'El enlace y el código caducan al poco tiempo. Siempre puedes pedir uno nuevo.',
  'sent.codeLabel': 'Código de acceso',
  'sent.codeSubmit': 'Iniciar sesión con el código',
  'sent.wrongCode':
    'Ese código no ha funcionado. Revísalo y vuelve a intentarlo, o usa el enlace del correo.',
  'sent.wrongAddress': '¿Dirección equivocada?',
  'sent.otherAddress': 'Usar otra dirección',

  'confirm.title': 'Confirmar inicio de sesión',
  'confirm.lead': 'Has abierto un enlace de acceso para esta cuenta.',
  'confirm.submit': 'Continuar',
  'confirm.note':
    'Este paso impide que los analizadores de correo usen tu enlace. No pasa nada hasta que continúes.',

  'elsewhere.heading': '¿Iniciar sesión en este dispositivo?',
  'elsewhere.lead': 'Este enlace de acceso se pidió en otro navegador o en otro dispositivo.',
  'elsewhere.warning': 'Si no lo pediste tú, cierra esta página.',
  'elsewhere.warningNote': 'Nadie inicia sesión a menos que continúes.',
  'elsewhere.submit': 'Sí, iniciar sesión aquí',

  'signedIn.title': 'Sesión iniciada',
  'signedIn.heading': 'Has iniciado sesión',
  'signedIn.lead': 'Has iniciado sesión en {app} como {email}.',
  'signedIn.note': 'Puedes cerrar esta página y volver a {app}.',

  'logout.heading': '¿Cerrar sesión en {app}?',
  'logout.lead': 'Necesitarás un nuevo enlace de acceso para volver.',

  'linkError.token_invalid.heading': 'Este enlace no funciona',
  'linkError.token_invalid.sentence':
    'Puede que el enlace se haya cortado o modificado por el camino. Vuelve a abrirlo directamente desde el correo o pide uno nuevo.',
  'linkError.token_expired.heading': 'Este enlace ha caducado',
  'linkError.token_expired.sentence':
    'Los enlaces de acceso solo funcionan durante poco tiempo, y este ya ha caducado.',
  'linkError.token_used.heading': 'Este enlace ya se ha usado',
  'linkError.token_used.sentence':
    'Cada enlace de acceso funciona una sola vez, y este ya se ha usado, o después se usó uno más reciente.',
  'linkError.token_revoked.heading': 'Este enlace se ha anulado',
  'linkError.token_revoked.sentence':
    'Se cerraron los enlaces de acceso y las sesiones de esta cuenta, así que los enlaces enviados antes ya no funcionan.',
  'linkError.user_disabled.heading': 'Esta cuenta no puede iniciar sesión',
  'linkError.user_disabled.sentence':
    'La cuenta a la que pertenece este enlace se ha desactivado. Si crees que es un error, ponte en contacto con los responsables de este servicio.',
  'linkError.ip_mismatch.heading': 'Abre este enlace desde la misma red',
  'linkError.ip_mismatch.sentence':
    'Por tu seguridad, este enlace solo funciona desde la red en la que se pidió. Pide un enlace nuevo desde donde estás ahora.',
  'linkError.resend': 'Enviarme un enlace nuevo por correo',
  'linkError.resendNote':
    'Enviaremos un enlace nuevo a la misma dirección. Ábrelo en este navegador.',
  'linkError.otherAddress': 'O usa otra dirección',
  'linkError.newLink': 'Obtener un nuevo enlace de acceso',
  'linkError.submit': 'Enviarme un enlace nuevo',

  'report.heading': '¿No has pedido iniciar sesión?',
  'report.lead':
    'Alguien ha pedido iniciar sesión en {app} como {email}. Si no has sido tú, puedes detenerlo aquí.',
  'report.stop': 'Detener estos correos de acceso',
  'report.stopNote':
    'Esto anula los enlaces y códigos de acceso ya enviados y pausa los correos de acceso a esta dirección durante 24 horas. Tus sesiones abiertas siguen activas.',
  'report.worried': '¿Te preocupa que alguien haya iniciado sesión?',
  'report.endSessions': 'Cerrar también mi sesión en todas partes',
  'report.endSessionsNote':
    'Hace lo mismo y, además, cierra todas las sesiones de esta cuenta en todos los dispositivos. Necesitarás un nuevo enlace de acceso para volver.',

  'reported.title': 'Correos de acceso en pausa',
  'reported.heading': 'Gracias, lo hemos detenido',
  'reported.lead': 'Los correos de acceso a {email} están en pausa durante 24 horas.',
  'reported.linksVoid': 'Los enlaces y códigos de acceso ya enviados han dejado de funcionar.',
  'reported.sessionsEnded':
    'Se han cerrado todas las sesiones de esta cuenta, en todos los dispositivos.',
  'reported.sessionsKept': 'Tus sesiones abiertas siguen activas.',
  'reported.after': 'Pasadas 24 horas, se podrán volver a pedir correos de acceso.',
  'reported.later': '¿Quieres iniciar sesión tú más tarde?',
  'reported.loginLink': 'Ir a la página de inicio de sesión',

  'forbidden.heading': 'Solicitud bloqueada',
  'forbidden.crossSite':
    'Este formulario no se envió desde este sitio, o la página estuvo abierta demasiado tiempo. Vuelve a empezar.',
  'forbidden.unreadable':
    'No se pudo leer esta solicitud. Vuelve a la página de inicio de sesión y empieza de nuevo.',
  'forbidden.noTarget':
    'Este enlace de acceso no indica a qué aplicación volver. Vuelve a empezar desde la aplicación.',
  'forbidden.note':
    'Para proteger tu cuenta, los formularios de acceso solo funcionan si se envían desde las páginas de este sitio.',

  'rateLimited.stillWorks':
    'Si se envió un enlace de acceso, sigue funcionando: búscalo en tu bandeja de entrada y en la carpeta de spam o correo no deseado.',
  'rateLimited.recipient.heading': 'Demasiados correos de acceso',
  'rateLimited.recipient.sentence':
    'Se han pedido demasiados correos de acceso para esta dirección. Vuelve a intentarlo dentro de {wait}.',
  'rateLimited.form.heading': 'Demasiados correos de acceso',
  'rateLimited.form.sentence':
    'Se han pedido demasiados correos de acceso desde tu red. Vuelve a intentarlo dentro de {wait}.',
  'rateLimited.code.heading': 'Demasiados códigos probados',
  'rateLimited.code.sentence':
    'Se han probado demasiados códigos de acceso para esta dirección. Vuelve a intentarlo dentro de {wait}.',
  'rateLimited.code.note':
    'El enlace del correo sigue funcionando hasta que caduque: ábrelo para iniciar sesión.',
  'rateLimited.ip.heading': 'Demasiadas solicitudes',
  'rateLimited.ip.sentence':
    'Han llegado demasiadas solicitudes desde tu red en poco tiempo. Vuelve a intentarlo dentro de {wait}.',
  'rateLimited.ip.note':
    'Este límite protege a quienes usan este servicio. Basta con esperar un momento.',

  'unavailable.title': 'Inicio de sesión no disponible',
  'unavailable.heading': 'El inicio de sesión no está disponible por un momento',
  'unavailable.lead':
    'Algo de nuestra parte no responde ahora mismo. No se ha cambiado nada: si estabas iniciando sesión, tu enlace sigue funcionando.',
  'unavailable.retry': 'Reintentar',
  'unavailable.note': 'Espera un minuto antes de volver a intentarlo.',

  'duration.seconds': {
    one: '{count} segundo',
    many: '{count} de segundos',
    other: '{count} segundos',
  },
  'duration.minutes': {
    one: '{count} minuto',
    many: '{count} de minutos',
    other: '{count} minutos',
  },
  'duration.hours': { one: '{count} hora', many: '{count} de horas', other: '{count} horas' },
  'duration.days': { one: '{count} día', many: '{count} de días', other: '{count} días' },

  'email.subject': 'Inicia sesión en {app}',
  'email.heading': 'Tu enlace de acceso',
  'email.lead': 'Usa el botón de abajo para iniciar sesión en {app}.',
  'email.textLead': 'Abre este enlace para terminar de iniciar sesión:',
  'email.code': 'O escribe este código donde pediste el enlace:',
  'email.validityBoth':
    'Usa el enlace o el código, una sola vez: ambos caducan dentro de {duration}.',
  'email.validityOnce': 'Este enlace funciona una sola vez y caduca dentro de {duration}.',
  'email.validity': 'Este enlace caduca dentro de {duration}.',
  'email.copy': 'Si el botón no funciona, copia esta dirección en tu navegador:',
  'email.ignore':
    'Si no lo has pedido tú, puedes ignorar este correo; nadie puede iniciar sesión sin el enlace.',
  'email.ignoreCode':
    'Si no lo has pedido tú, puedes ignorar este correo; nadie puede iniciar sesión sin el enlace o el código.',
  'email.report': '¿No lo has pedido tú? {link} y detendremos estos correos durante un día.',
  'email.reportAction': 'Avísanos',
  'email.reportText': '¿No lo has pedido tú? Avísanos y detendremos estos correos durante un día:',
  'email.footer': 'Enviado a {to} por {app}.',
} as const satisfies Messages
