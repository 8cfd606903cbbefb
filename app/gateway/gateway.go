// Package gateway is the tool gateway for outside agents: API keys
// (authentication, scope, rate limits, last use), the installed tools a
// key may call with their JSON Schemas (MCP's and OpenAI's function
// calling), argument checks, and calls through app/invoke (stored
// credential, run record, redaction), each audited. It serves MCP
// (mcp.go) for /mcp; the REST API calls Tools and Call. Its goroutines
// (the catalog's poll, the usage writer) end with Close.
package gateway

import (
	"context"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
)

// Config is what the gateway needs.
type Config struct {
	Store  *store.DB
	Daemon *client.Client // lists the installed tools
	Invoke *invoke.Service
	Logger *slog.Logger
	Now    func() time.Time
	// Poll is how often the installed tools are read again for MCP's
	// list_changed (0: 2 s).
	Poll time.Duration
	// Version is the server's version shown to MCP clients.
	Version string
}

// Service is the gateway.
type Service struct {
	cfg     Config
	log     *slog.Logger
	catalog *catalog
	usage   *usage

	limMu    sync.Mutex
	limiters map[int64]*rate.Limiter

	mcp *mcpServers

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns the gateway and starts its goroutines.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 2 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{cfg: cfg, log: cfg.Logger, catalog: &catalog{daemon: cfg.Daemon}, limiters: map[int64]*rate.Limiter{},
		ctx: ctx, cancel: cancel}
	s.usage = newUsage(cfg.Store, cfg.Logger)
	s.mcp = newMCPServers(s)
	s.wg.Add(2)
	go func() { defer s.wg.Done(); s.usage.run(ctx) }()
	go func() { defer s.wg.Done(); s.poll(ctx) }()
	return s
}

// Close stops polling, writes the usage not yet written, closes the MCP
// sessions and waits.
func (s *Service) Close() {
	s.cancel()
	s.wg.Wait()
	s.mcp.close()
}

// poll reads the installed tools every Poll and tells the MCP sessions
// when they changed; while no MCP client has come it asks the daemon nothing.
func (s *Service) poll(ctx context.Context) {
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if s.mcp.serving() { // no MCP client yet: nothing to keep in step
				s.refresh(ctx)
			}
		}
	}
}

// refresh reads the installed tools and updates the MCP servers on a
// change; a daemon that does not answer leaves the tools as they were.
func (s *Service) refresh(ctx context.Context) {
	changed, err := s.catalog.refresh(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Debug("gateway: list installed tools", "err", err)
		}
		return
	}
	if changed {
		s.mcp.sync(s.catalog.all())
	}
}

// ErrUnauthorized is every refused key: wrong, revoked or expired look the
// same from outside.
var ErrUnauthorized = plugboard.Errorf(plugboard.EUNAUTHORIZED, "unauthorized")

// Authenticate is the key of an Authorization header's bearer secret; a
// missing, unknown, revoked or expired key is ErrUnauthorized.
func (s *Service) Authenticate(ctx context.Context, header string) (*store.APIKey, error) {
	secret, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || !strings.HasPrefix(secret, store.APIKeyPrefix) {
		return nil, ErrUnauthorized
	}
	hash := store.HashAPIKey(strings.TrimSpace(secret))
	k, err := s.cfg.Store.FindAPIKeyByHash(ctx, hash)
	if plugboard.ErrorCode(err) == plugboard.ENOTFOUND {
		return nil, ErrUnauthorized
	}
	if err != nil {
		return nil, err
	}
	// The row is looked up by the secret's SHA-256, not the secret: the
	// lookup's timing tells nothing about the secret.
	if k.Usable(s.cfg.Now()) != "" {
		return nil, ErrUnauthorized
	}
	s.usage.used(k.ID, s.cfg.Now())
	return k, nil
}

// Revoke revokes a key: every request authenticates against the store,
// so its next one is refused; its open MCP sessions are closed.
func (s *Service) Revoke(ctx context.Context, actor string, id int64) (*store.APIKey, error) {
	k, err := s.cfg.Store.RevokeAPIKey(ctx, actor, id)
	if err == nil {
		s.mcp.drop(id)
	}
	return k, err
}

// Allow takes one request from the key's rate limit; when none is left it
// says how long until one is.
func (s *Service) Allow(k *store.APIKey) (bool, time.Duration) {
	s.limMu.Lock()
	lim := s.limiters[k.ID]
	if lim == nil {
		perMin := max(k.RatePerMinute, 1)
		lim = rate.NewLimiter(rate.Limit(float64(perMin)/60), max(perMin/10, 1))
		s.limiters[k.ID] = lim
	}
	s.limMu.Unlock()
	r := lim.ReserveN(s.cfg.Now(), 1)
	if d := r.DelayFrom(s.cfg.Now()); d > 0 {
		r.CancelAt(s.cfg.Now())
		return false, time.Duration(math.Ceil(d.Seconds())) * time.Second
	}
	return true, 0
}

// Tools is what the key may call, read fresh from the daemon.
func (s *Service) Tools(ctx context.Context, k *store.APIKey) ([]*Tool, error) {
	if _, err := s.catalog.refresh(ctx); err != nil && s.catalog.all() == nil {
		return nil, err
	}
	return allowed(s.catalog.all(), k), nil
}

// find is the tool named name if the key may call it: an unknown name is
// plugboard.ENOTFOUND, a tool outside the key's scope plugboard.EFORBIDDEN.
// A name not in the catalog reads the installed tools once again (it may
// be new since the last poll), never more.
func (s *Service) find(ctx context.Context, k *store.APIKey, name string) (*Tool, error) {
	t := named(s.catalog.all(), name)
	if t == nil {
		if _, err := s.catalog.refresh(ctx); err != nil {
			return nil, err
		}
		if t = named(s.catalog.all(), name); t == nil {
			return nil, plugboard.Errorf(plugboard.ENOTFOUND, "No tool %s is installed.", name)
		}
	}
	if p := k.Scope.Find(t.PluginID, t.Provider); p == nil || !p.Allows(t.Tool) {
		return nil, plugboard.Errorf(plugboard.EFORBIDDEN, "This key may not call %s.", name)
	}
	return t, nil
}

// named is the tool called name among tools, nil when none is.
func named(tools []*Tool, name string) *Tool {
	for _, t := range tools {
		if t.Name == name {
			return t
		}
	}
	return nil
}
