// Package install is the application service that brings plugins in and
// takes them out, for every surface that does so on a user's behalf (the
// admin app's pages today; the agent and the gateway later): where packages
// come from (an upload, the marketplace, a GitHub release, the examples
// directory), the signature check against the trusted keys and the
// signature policy, uploading to the daemon, installing or upgrading with
// the source recorded on the installation, uninstalling, who may do each
// (the install permission), and the audit log of all of it, including how
// each install task ends. It knows nothing of HTTP.
package install

import (
	"context"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/github"
	"github.com/plugboard/plugboard/app/marketplace"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
)

// Sources a package can be installed from, recorded on its installation
// so that update checks and upgrades can go back to it.
const (
	SourcePackage     = "package"
	SourceMarketplace = "marketplace"
	SourceGitHub      = "github"
)

// Source is where a package came from: its kind (one of the Source
// constants) and details (for GitHub: repo, version, package; for the
// marketplace: the package's unique identifier).
type Source struct {
	Kind string
	Meta map[string]any
}

// meta is the source's details, an empty map for none (the daemon records
// an object either way).
func (src Source) meta() map[string]any {
	if src.Meta == nil {
		return map[string]any{}
	}
	return src.Meta
}

// Config is what the service needs.
type Config struct {
	Store  *store.DB
	Daemon *client.Client
	// Marketplace is the marketplace client (see NewMarketplace); nil when
	// none is configured.
	Marketplace *marketplace.Client
	// GitHub returns a GitHub client with the saved settings; nil: no
	// installs from GitHub.
	GitHub func(context.Context) (*github.Client, error)
	// Examples is the directory of example .difypkg packages offered for
	// one-click install ("" for none).
	Examples string
	Logger   *slog.Logger
	// Now returns the current time (the marketplace cache's clock); tests
	// replace it.
	Now func() time.Time
}

// Service installs, upgrades and uninstalls plugins on behalf of users. It
// follows the install tasks it starts to audit how they end; Close stops
// that and waits.
type Service struct {
	store    *store.DB
	daemon   *client.Client
	market   *marketplace.Client
	github   func(context.Context) (*github.Client, error)
	examples string
	log      *slog.Logger
	now      func() time.Time
	latest   latestCache
	tasks    *taskAuditor
}

// New returns the service; Close it to stop following install tasks.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{
		store: cfg.Store, daemon: cfg.Daemon, market: cfg.Marketplace, github: cfg.GitHub,
		examples: cfg.Examples, log: cfg.Logger, now: cfg.Now,
		tasks: newTaskAuditor(cfg.Daemon, cfg.Store),
	}
}

// Close stops following install tasks (they go on in the daemon,
// unaudited) and waits for the goroutines that followed them.
func (s *Service) Close() { s.tasks.Close() }

// Marketplace returns the marketplace client, nil when none is configured.
func (s *Service) Marketplace() *marketplace.Client { return s.market }

// MayInstall reports whether u may install, upgrade and uninstall plugins
// by the install permission; the error is Forbidden and says who may.
func (s *Service) MayInstall(ctx context.Context, u *store.User) error {
	p, err := s.store.FindPermissions(ctx)
	if err != nil {
		return err
	}
	switch {
	case u != nil && p.Install.Allows(u.Role):
		return nil
	case p.Install == store.PermNobody:
		return plugboard.Errorf(plugboard.EFORBIDDEN, "No one may install plugins here: an admin has turned it off under Settings → Permissions.")
	}
	return plugboard.Errorf(plugboard.EFORBIDDEN, "Only admins may install plugins here (Settings → Permissions).")
}

// Installation finds an installed plugin by id ("author/name"); NotFound
// when it is not installed.
func (s *Service) Installation(ctx context.Context, pluginID string) (*apispec.Installation, error) {
	page, err := s.daemon.List(ctx, 1, listSize)
	if err != nil {
		return nil, err
	}
	for i := range page.List {
		if page.List[i].PluginID == pluginID {
			return &page.List[i], nil
		}
	}
	return nil, plugboard.Errorf(plugboard.ENOTFOUND, "%s is not installed.", pluginID)
}

// listSize is how many installed plugins a lookup reads.
const listSize = 256

// audit records an action by who that ended as outcome. detail must never
// contain a secret. A failure to record is logged, not returned: the
// change itself has happened.
func (s *Service) audit(ctx context.Context, who, action, target, detail, outcome string) {
	if err := s.store.AuditOutcome(ctx, truncate(who, 100), action, target, detail, outcome); err != nil {
		s.log.Error("audit log write failed", "action", action, "target", target, "err", err)
	}
}

// truncate shortens s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// username is u's name for the audit log ("" for nobody).
func username(u *store.User) string {
	if u == nil {
		return ""
	}
	return u.Username
}
