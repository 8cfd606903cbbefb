package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/install"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/marketplace"
)

// canInstall reports whether the user may install (the s.installers
// chain's rule: the install permission), to show install buttons.
func (s *Server) canInstall(c echo.Context) bool {
	u := CurrentUser(c)
	return u != nil && permissionsOf(c).Install.Allows(u.Role)
}

// marketClient returns the marketplace client, or an error saying none is set.
func (s *Server) marketClient() (*marketplace.Client, error) {
	if s.market == nil {
		return nil, install.ErrNoMarketplace
	}
	return s.market, nil
}

// marketSource is the marketplace's address as shown to users.
func (s *Server) marketSource() string {
	if s.market == nil {
		return "(none)"
	}
	if s.market.BaseURL() == install.BuiltinMarketplace {
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
	pkg, err := s.installs.FetchMarketplace(ctx(c), CurrentUser(c), id, version)
	if err != nil {
		return s.uploadFailed(c, id, err)
	}
	p, err := s.installs.Preview(ctx(c), CurrentUser(c), *pkg)
	return s.showPreview(c, pkg.Name, p, err)
}
