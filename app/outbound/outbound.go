// Package outbound owns the SSRF guard that every request made on a user's
// behalf dials through (API-based extensions, the marketplace, GitHub), and
// its allowlist: the hosts and networks configured at start
// (--outbound-allow) merged with the admins' saved setting.
package outbound

import (
	"context"
	"log/slog"
	"strings"

	"github.com/plugboard/plugboard/app/netguard"
	"github.com/plugboard/plugboard/store"
)

// allowlistSetting is the settings key of the admins' outbound allowlist.
const allowlistSetting = "outbound.allowlist"

// AuditAllowlistUpdate is the audit action of an allowlist change.
const AuditAllowlistUpdate = "outbound_allowlist.update"

// Guard is the guard with its allowlists.
type Guard struct {
	*netguard.Guard
	store *store.DB
	fixed *netguard.Allowlist
}

// Open returns the guard with fixed (nil: none) and the saved allowlist. A
// saved list that cannot be read or parsed is logged, and only fixed applies.
func Open(ctx context.Context, st *store.DB, fixed *netguard.Allowlist, log *slog.Logger) *Guard {
	g := &Guard{Guard: netguard.New(fixed), store: st, fixed: fixed}
	if st == nil {
		return g
	}
	saved, err := g.Saved(ctx)
	if err != nil {
		log.Error("read the outbound allowlist; only --outbound-allow applies", "err", err)
		return g
	}
	a, err := netguard.ParseAllowlist(saved)
	if err != nil {
		log.Error("the saved outbound allowlist is invalid; only --outbound-allow applies", "err", err)
		return g
	}
	g.SetAllowlist(netguard.Merge(fixed, a))
	return g
}

// Fixed lists the entries configured at start, which admins cannot change.
func (g *Guard) Fixed() []string { return g.fixed.Entries() }

// Saved returns the admins' allowlist as saved ("" when none).
func (g *Guard) Saved(ctx context.Context) (string, error) {
	v, _, err := g.store.Setting(ctx, allowlistSetting)
	return v, err
}

// Save replaces the admins' allowlist with text (one entry a line or comma
// separated), applies it from the next request on and audits the change by
// actor. A list that does not parse is refused with the parser's message
// and changes nothing.
func (g *Guard) Save(ctx context.Context, actor, text string) (*netguard.Allowlist, error) {
	a, err := netguard.ParseAllowlist(text)
	if err != nil {
		return nil, &store.FieldError{Field: "allowlist", Message: "Not saved: " + err.Error() + "."}
	}
	if err := g.store.SetSetting(ctx, allowlistSetting, a.String()); err != nil {
		return nil, err
	}
	g.SetAllowlist(netguard.Merge(g.fixed, a))
	detail := "entries: " + strings.Join(a.Entries(), ", ")
	if len(a.Entries()) == 0 {
		detail = "emptied"
	}
	return a, g.store.Audit(ctx, actor, AuditAllowlistUpdate, "outbound allowlist", detail)
}
