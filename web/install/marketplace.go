package install

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	appinstall "github.com/plugboard/plugboard/app/install"
	"github.com/plugboard/plugboard/app/marketplace"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// canInstall reports whether the user may install (the h.installers
// chain's rule: the install permission), to show install buttons.
func (h *Handlers) canInstall(c echo.Context) bool {
	u := page.CurrentUser(c)
	return u != nil && page.Permissions(c).Install.Allows(u.Role)
}

// marketClient returns the marketplace client, or an error saying none is set.
func (h *Handlers) marketClient() (*marketplace.Client, error) {
	if h.market == nil {
		return nil, appinstall.ErrNoMarketplace
	}
	return h.market, nil
}

// marketSource is the marketplace's address as shown to users.
func (h *Handlers) marketSource() string {
	if h.market == nil {
		return "(none)"
	}
	if h.market.BaseURL() == appinstall.BuiltinMarketplace {
		return "the built-in catalog of example plugins"
	}
	return h.market.BaseURL()
}

// marketplacePage is the Marketplace tab: search, filters and cards.
func (h *Handlers) marketplacePage(c echo.Context) error {
	ch := h.Chrome(c, "Marketplace", views.NavMarketplace)
	d := views.MarketplaceData{CanInstall: h.canInstall(c), Source: h.marketSource(), Installed: map[string]string{}}
	d.Filter = views.PluginFilter{Q: strings.TrimSpace(c.QueryParam("q")), Category: c.QueryParam("category"), Tag: c.QueryParam("tag")}
	all, err := h.marketSearch(c, marketplace.Query{})
	if err != nil {
		d.Err = plugboard.ErrorMessage(err)
		return page.Render(c, http.StatusOK, views.MarketplacePage(ch, d))
	}
	d.Filter.Categories, d.Filter.Tags = marketChoices(all)
	if d.Plugins, err = h.marketSearch(c, marketplace.Query{Q: d.Filter.Q, Category: d.Filter.Category, Tag: d.Filter.Tag}); err != nil {
		d.Err = plugboard.ErrorMessage(err)
	}
	if list, err := page.Installed(c, h.daemon); err == nil {
		for _, in := range list {
			d.Installed[in.PluginID] = in.Version
		}
	}
	return page.Render(c, http.StatusOK, views.MarketplacePage(ch, d))
}

func (h *Handlers) marketSearch(c echo.Context, q marketplace.Query) ([]marketplace.Plugin, error) {
	m, err := h.marketClient()
	if err != nil {
		return nil, err
	}
	return m.Search(page.Ctx(c), q)
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
func (h *Handlers) marketplaceDetail(c echo.Context) error {
	p, err := h.marketPlugin(c, page.PluginID(c))
	if err != nil {
		return err
	}
	d := views.MarketplaceDetail{Plugin: *p, CanInstall: h.canInstall(c)}
	if in, err := page.FindInstalled(c, h.daemon, p.PluginID); err == nil {
		d.Installed = in.Version
	}
	return page.Render(c, http.StatusOK, views.MarketplaceDetailPage(h.Chrome(c, p.Label, views.NavMarketplace), d))
}

// marketPlugin finds one plugin, with its versions, in the marketplace.
func (h *Handlers) marketPlugin(c echo.Context, id string) (*marketplace.Plugin, error) {
	all, err := h.marketSearch(c, marketplace.Query{})
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].PluginID == id {
			if len(all[i].Versions) == 0 {
				vs, err := h.market.Versions(page.Ctx(c), id)
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
func (h *Handlers) marketplaceIcon(c echo.Context) error {
	m, err := h.marketClient()
	if err != nil {
		return err
	}
	data, ctype, err := m.Icon(page.Ctx(c), page.PluginID(c), c.Param("version"))
	if err != nil {
		return err
	}
	return page.ServeImage(c, "", ctype, data)
}

// marketplaceInstall downloads one version of a plugin from the
// marketplace and shows its preview, whose button installs it (or upgrades
// or downgrades the installed version to it), recording the source.
func (h *Handlers) marketplaceInstall(c echo.Context) error {
	id, version := c.FormValue("plugin_id"), c.FormValue("version")
	pkg, err := h.installs.FetchMarketplace(page.Ctx(c), page.CurrentUser(c), id, version)
	if err != nil {
		return h.uploadFailed(c, id, err)
	}
	p, err := h.installs.Preview(page.Ctx(c), page.CurrentUser(c), *pkg)
	return h.showPreview(c, pkg.Name, p, err)
}
