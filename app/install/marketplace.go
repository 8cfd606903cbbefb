package install

import (
	"context"
	"sync"
	"time"

	"github.com/plugboard/plugboard/app/marketplace"
	"github.com/plugboard/plugboard/app/netguard"
	"github.com/plugboard/plugboard/daemon/apispec"
)

// BuiltinMarketplace is the base URL of the marketplace served in-process
// from the examples directory when no marketplace URL is given; its
// requests never leave the process.
const BuiltinMarketplace = "http://examples.marketplace.invalid"

// marketplaceTimeouts bound calls to a configured marketplace.
var marketplaceTimeouts = netguard.Timeouts{Connect: 5 * time.Second, Read: 30 * time.Second}

// NewMarketplace returns the marketplace client: of base through an SSRF
// guard that lets allow and base's own host through (the operator chose
// it), or, with no base, of the examples directory served in-process. Nil
// when neither is given.
func NewMarketplace(base, examples string, allow *netguard.Allowlist) (*marketplace.Client, error) {
	if base == "" {
		if examples == "" {
			return nil, nil
		}
		return marketplace.NewClient(BuiltinMarketplace, marketplace.InProcess(marketplace.NewServer(examples)))
	}
	u, err := netguard.CheckURL(base)
	if err != nil {
		return nil, err
	}
	own, err := netguard.ParseAllowlist(u.Hostname())
	if err != nil {
		return nil, err
	}
	g := netguard.New(netguard.Merge(allow, own))
	return marketplace.NewClient(base, g.Client(marketplaceTimeouts))
}

// How long the marketplace's latest versions are kept, and waited for.
const (
	latestTTL  = 5 * time.Minute
	latestWait = 3 * time.Second
)

// LatestVersions asks the marketplace for the latest version of each
// marketplace-installed plugin in list: plugin id → version. Answers are
// kept for five minutes (as Dify does), and a marketplace that answers
// slowly or not at all only loses the badges: a page re-rendered by every
// filter keystroke never waits on it for long.
func (s *Service) LatestVersions(ctx context.Context, list []apispec.Installation) map[string]string {
	var ids []string
	for _, in := range list {
		if in.Source == SourceMarketplace {
			ids = append(ids, in.PluginID)
		}
	}
	if len(ids) == 0 || s.market == nil {
		return map[string]string{}
	}
	now := s.now()
	if missing := s.latest.stale(ids, now); len(missing) > 0 {
		cx, cancel := context.WithTimeout(ctx, latestWait)
		defer cancel()
		ps, err := s.market.Batch(cx, missing)
		if err != nil {
			s.log.Warn("marketplace: latest versions", "err", err)
		} else {
			s.latest.store(missing, ps, now)
		}
	}
	return s.latest.versions(ids)
}

// latestCache holds the marketplace's latest version per plugin id ("" for
// a plugin it does not know) and when it said so.
type latestCache struct {
	mu      sync.Mutex
	entries map[string]latestEntry
}

type latestEntry struct {
	version string
	at      time.Time
}

// stale returns the ids with no answer younger than latestTTL.
func (l *latestCache) stale(ids []string, now time.Time) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, id := range ids {
		if e, ok := l.entries[id]; !ok || now.Sub(e.at) >= latestTTL {
			out = append(out, id)
		}
	}
	return out
}

// store records the answer for the ids asked.
func (l *latestCache) store(asked []string, ps []marketplace.Plugin, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.entries == nil {
		l.entries = map[string]latestEntry{}
	}
	for _, id := range asked {
		l.entries[id] = latestEntry{at: now}
	}
	for _, p := range ps {
		l.entries[p.PluginID] = latestEntry{version: p.LatestVersion, at: now}
	}
}

// versions returns the known latest versions of ids, stale ones included.
func (l *latestCache) versions(ids []string) map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]string{}
	for _, id := range ids {
		if e, ok := l.entries[id]; ok && e.version != "" {
			out[id] = e.version
		}
	}
	return out
}
