// Package web is the admin app's HTTP server: echo routes, handlers and
// middleware (sessions, sign-in, roles, CSRF, security headers). It reaches
// the plugin daemon only through daemon/client and renders views components.
//
// Conventions, for every feature:
//
//   - Files mirror across packages: web/<feature>.go holds the handlers,
//     views/<feature>.templ the components, store/<feature>.go the queries.
//   - Routes are registered in one place, routes.go, each with the access it
//     needs: s.public (anyone), s.signedIn (any user), s.admins (owner and
//     admins; members get 403 and never see the controls — hide them in
//     templates with Chrome.Can), s.installers (whoever the install
//     permission allows: everyone, admins or no one — Settings →
//     Permissions; use it for every route that uploads, installs,
//     upgrades or uninstalls, and hide the controls with
//     Chrome.CanInstall), s.debuggers (the same by the debug permission,
//     for remote debugging routes; Chrome.CanDebug). Both answer 403 with
//     who may, and "no one" refuses even the owner (permission.go).
//   - Every package source ends in s.previewPackage, which checks the
//     signature (daemon/signature) against the trusted keys and the
//     signature policy before the daemon sees the bytes, and records the
//     verdict for the cards; s.startInstall applies the policy again
//     (signature_check.go).
//   - A page handler builds the layout's data with s.kit.Chrome(c, title, nav)
//     and renders with page.Render(c, status, component).
//   - Success sets a flash (s.flash) and redirects with s.redirect, which
//     answers htmx requests with HX-Redirect instead of a 303.
//   - Every state-changing request carries the CSRF token: forms include
//     @views.CSRFInput(ch.CSRF); htmx requests send the X-CSRF-Token header
//     set on <body hx-headers> by the layout. Nothing else is needed.
//
// Validation errors, decided once: a handler re-renders the form (or the
// fragment htmx asked for) with the user's input and a message per field,
// with status 422 Unprocessable Entity. Browsers show a 422 page like any
// other; htmx 2 would not swap a 4xx, so the layout's htmx-config meta adds
// {"code":"422","swap":true} to htmx.config.responseHandling. Other errors
// are returned from the handler and rendered by the one error handler
// (errors.go): an error page for full-page requests, a toast message for
// htmx requests.
package web
