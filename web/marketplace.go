package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/marketplace"
	"github.com/plugboard/plugboard/web/netguard"
)

// builtinMarketplace is the base URL of the marketplace served in-process
// from the examples directory when no --marketplace-url is given; its
// requests never leave the process.
const builtinMarketplace = "http://examples.marketplace.invalid"

// marketplaceTimeouts bound calls to a configured marketplace.
var marketplaceTimeouts = netguard.Timeouts{Connect: 5 * time.Second, Read: 30 * time.Second}

// newMarketplace returns the marketplace client: of Config.MarketplaceURL
// through an SSRF guard that also lets that one host through (the operator
// chose it), or of the examples directory served in-process. Nil when
// neither is configured.
func newMarketplace(cfg Config) (*marketplace.Client, error) {
	if cfg.MarketplaceURL == "" {
		if cfg.Examples == "" {
			return nil, nil
		}
		return marketplace.NewClient(builtinMarketplace, marketplace.InProcess(marketplace.NewServer(cfg.Examples)))
	}
	u, err := netguard.CheckURL(cfg.MarketplaceURL)
	if err != nil {
		return nil, err
	}
	own, err := netguard.ParseAllowlist(u.Hostname())
	if err != nil {
		return nil, err
	}
	g := netguard.New(netguard.Merge(cfg.OutboundAllow, own))
	return marketplace.NewClient(cfg.MarketplaceURL, g.Client(marketplaceTimeouts))
}

// canInstall reports whether the user may install (the s.installers
// chain's rule: the install permission), to show install buttons.
func (s *Server) canInstall(c echo.Context) bool {
	u := CurrentUser(c)
	return u != nil && permissionsOf(c).Install.Allows(u.Role)
}

// market returns the marketplace client, or an error saying none is set.
func (s *Server) marketClient() (*marketplace.Client, error) {
	if s.market == nil {
		return nil, plugboard.Errorf(plugboard.EUNAVAILABLE, "No marketplace is configured (set --marketplace-url, or --examples for the built-in one).")
	}
	return s.market, nil
}

// marketSource is the marketplace's address as shown to users.
func (s *Server) marketSource() string {
	if s.market == nil {
		return "(none)"
	}
	if s.market.BaseURL() == builtinMarketplace {
		return "the built-in catalog of example plugins"
	}
	return s.market.BaseURL()
}

// marketplacePage is the Marketplace tab: search, filters and cards.
func (s *Server) marketplacePage(c echo.Context) error {
	ch := s.chrome(c, "Marketplace", views.NavMarketplace)
	d := views.MarketplaceData{CanInstall: s.canInstall(c), Source: s.marketSource(), Installed: map[string]string{}}
	d.Filter = views.PluginFilter{Q: strings.TrimSpace(c.QueryParam("q")), Category: c.QueryParam("category"), Tag: c.QueryParam("tag")}
	all, err := s.marketSearch(c, marketplace.Query{})
	if err != nil {
		d.Err = plugboard.ErrorMessage(err)
		return s.render(c, http.StatusOK, views.MarketplacePage(ch, d))
	}
	d.Filter.Categories, d.Filter.Tags = marketChoices(all)
	if d.Plugins, err = s.marketSearch(c, marketplace.Query{Q: d.Filter.Q, Category: d.Filter.Category, Tag: d.Filter.Tag}); err != nil {
		d.Err = plugboard.ErrorMessage(err)
	}
	if list, err := s.installed(c); err == nil {
		for _, in := range list {
			d.Installed[in.PluginID] = in.Version
		}
	}
	return s.render(c, http.StatusOK, views.MarketplacePage(ch, d))
}

func (s *Server) marketSearch(c echo.Context, q marketplace.Query) ([]marketplace.Plugin, error) {
	m, err := s.marketClient()
	if err != nil {
		return nil, err
	}
	return m.Search(ctx(c), q)
}

// marketChoices are the categories and tags the marketplace's plugins offer.
func marketChoices(ps []marketplace.Plugin) (cats, tags []string) {
	for _, p := range ps {
		cats = append(cats, p.Category)
		tags = append(tags, p.Tags...)
	}
	slices.Sort(cats)
	slices.Sort(tags)
	return slices.Compact(cats), slices.Compact(tags)
}

// marketplaceDetail shows a marketplace plugin with its versions.
func (s *Server) marketplaceDetail(c echo.Context) error {
	p, err := s.marketPlugin(c, pluginID(c))
	if err != nil {
		return err
	}
	d := views.MarketplaceDetail{Plugin: *p, CanInstall: s.canInstall(c)}
	if in, err := s.findInstalled(c, p.PluginID); err == nil {
		d.Installed = in.Version
	}
	return s.render(c, http.StatusOK, views.MarketplaceDetailPage(s.chrome(c, p.Label, views.NavMarketplace), d))
}

// marketPlugin finds one plugin, with its versions, in the marketplace.
func (s *Server) marketPlugin(c echo.Context, id string) (*marketplace.Plugin, error) {
	all, err := s.marketSearch(c, marketplace.Query{})
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].PluginID == id {
			if len(all[i].Versions) == 0 {
				vs, err := s.market.Versions(ctx(c), id)
				if err != nil {
					return nil, err
				}
				all[i].Versions = vs
			}
			return &all[i], nil
		}
	}
	return nil, plugboard.Errorf(plugboard.ENOTFOUND, "The marketplace has no plugin %s.", id)
}

// marketplaceIcon serves the icon of one version of a marketplace plugin.
func (s *Server) marketplaceIcon(c echo.Context) error {
	m, err := s.marketClient()
	if err != nil {
		return err
	}
	data, ctype, err := m.Icon(ctx(c), pluginID(c), c.Param("version"))
	if err != nil {
		return err
	}
	return serveImage(c, "", ctype, data)
}

// marketplaceInstall downloads one version of a plugin from the
// marketplace and shows its preview, whose button installs it (or upgrades
// or downgrades the installed version to it), recording the source.
func (s *Server) marketplaceInstall(c echo.Context) error {
	id, version := c.FormValue("plugin_id"), c.FormValue("version")
	m, err := s.marketClient()
	if err != nil {
		return s.uploadFailed(c, id, err)
	}
	pkg, err := m.Download(ctx(c), id, version)
	if err != nil {
		return s.uploadFailed(c, id, err)
	}
	name := url.PathEscape(pkg.Manifest.Name) + "-" + pkg.Manifest.Version + ".difypkg"
	return s.previewPackage(c, name, pkg.Raw, packageSource{
		Kind: SourceMarketplace,
		Meta: map[string]any{"plugin_unique_identifier": pkg.ID.String()},
	})
}

// latestVersions asks the marketplace for the latest version of each
// marketplace-installed plugin: plugin id → version. Answers are kept for
// latestTTL (as Dify does), and a marketplace that answers slowly or not at
// all only loses the badges: the Plugins page, re-rendered by every filter
// keystroke, never waits on it for long.
func (s *Server) latestVersions(c echo.Context, list []apispec.Installation) map[string]string {
	var ids []string
	for _, in := range list {
		if in.Source == SourceMarketplace {
			ids = append(ids, in.PluginID)
		}
	}
	if len(ids) == 0 || s.market == nil {
		return map[string]string{}
	}
	now := s.cfg.Now()
	if missing := s.latest.stale(ids, now); len(missing) > 0 {
		cx, cancel := context.WithTimeout(ctx(c), latestWait)
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

// How long the marketplace's latest versions are kept, and waited for.
const (
	latestTTL  = 5 * time.Minute
	latestWait = 3 * time.Second
)

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
