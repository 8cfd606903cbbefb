// Package guard is what runs on every request of the admin app before its
// handler: security headers, the client's address (behind trusted proxies
// only), the signed-in user from the session cookie, their permissions,
// per-route body limits, and the CSRF check; and the session keys and
// cookie store they rest on.
package guard

import "github.com/plugboard/plugboard/web/page"

// Guard holds what the request checks need: the shared kit (sessions,
// store, the public URL for Secure cookies).
type Guard struct {
	kit *page.Kit
}

// New returns the guard over kit.
func New(kit *page.Kit) *Guard { return &Guard{kit: kit} }
