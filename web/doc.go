// Package web is the admin app's HTTP server: it makes the application
// services (package app), installs the middleware (web/guard, web/metrics),
// and mounts each handler package's routes. Handlers live in a package per
// area and reach the daemon only through daemon/client and the services:
//
//	web/account      setup, sign-in, password, users
//	web/plugins      the installed plugins, their pages, uninstall, remote debugging
//	web/install      upload and preview, examples, marketplace, GitHub, upgrades, tasks
//	web/playground   the tool playground (runs by app/invoke)
//	web/agent        the agent playground (runs by app/agent)
//	web/credentials  tool providers' credentials
//	web/extensions   API-based extensions and the outbound allowlist
//	web/settings     signing keys, signature policy, permissions, audit log
//
// Conventions, for every feature:
//
//   - A handler package has Handlers (embedding *page.Kit), New and
//     Routes(e, page.Chains); web/routes.go calls Routes once. Files mirror
//     across packages: web/<area>/<feature>.go the handlers,
//     views/<feature>.templ the components, store/<feature>.go the queries.
//   - Each route names who may use it with a page.Chains field: Public
//     (anyone), SignedIn (any user), Admins (owner and admins; members get
//     403 and never see the controls — hide them in templates with
//     Chrome.Can), Installers (whoever the install permission allows:
//     everyone, admins or no one — Settings → Permissions; use it for every
//     route that uploads, installs, upgrades or uninstalls, and hide the
//     controls with Chrome.CanInstall), Debuggers (the same by the debug
//     permission; Chrome.CanDebug), AdminsWithKeys (admins, on a server with
//     a keyring). Refusals answer 403 saying who may.
//   - Nothing about an install or a tool run is decided in a handler: every
//     package source ends in app/install's Preview (signature, policy,
//     verdict recorded), Install applies the policy again; a tool run is
//     app/invoke's (credential, secrets, checks, events, redaction), an
//     agent run app/agent's (model, tools, loop, steps).
//   - A page handler builds the layout's data with h.Chrome(c, title, nav)
//     and renders with page.Render(c, status, component).
//   - Success sets a flash and redirects (h.FlashRedirect, page.Redirect),
//     which answers htmx requests with HX-Redirect instead of a 303.
//   - Every state-changing request carries the CSRF token: forms include
//     @views.CSRFInput(ch.CSRF); htmx requests send the X-CSRF-Token header
//     set on <body hx-headers> by the layout. Nothing else is needed.
//
// Validation errors, decided once: a handler re-renders the form (or the
// fragment htmx asked for) with the user's input and a message per field,
// with status 422 Unprocessable Entity (page.FormError). Browsers show a
// 422 page like any other; htmx 2 would not swap a 4xx, so the layout's
// htmx-config meta adds {"code":"422","swap":true} to
// htmx.config.responseHandling. Other errors are returned from the handler
// and rendered by the one error handler (errors.go): an error page for
// full-page requests, a toast message for htmx requests.
package web
