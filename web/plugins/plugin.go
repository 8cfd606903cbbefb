package plugins

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// pluginListSize is how many installed plugins the list asks for.
const pluginListSize = 256

// plugins lists the installed plugins, filtered by the query's q, category
// and tag. A daemon that cannot be reached is shown in the page (and the
// banner), not as an error page. htmx requests get the same page; the
// filters hx-select the card grid from it.
func (h *Handlers) plugins(c echo.Context) error {
	ch := h.Chrome(c, "Plugins", views.NavPlugins)
	d := views.PluginsData{MaxUpload: page.MaxUpload()}
	d.Filter = views.PluginFilter{
		Q:        strings.TrimSpace(c.QueryParam("q")),
		Category: c.QueryParam("category"),
		Tag:      c.QueryParam("tag"),
	}
	list, err := page.Installed(c, h.daemon)
	if err != nil {
		d.ListErr = page.DaemonProblem(err)
	}
	d.Total = len(list)
	d.Filter.Categories, d.Filter.Tags = filterChoices(list)
	d.Plugins = filterPlugins(list, d.Filter)
	d.Latest = h.installs.LatestVersions(page.Ctx(c), d.Plugins)
	if ch.CanInstall() {
		d.Examples = h.pages.Examples(list)
	}
	d.Signatures = h.signatures(c, list)
	return page.Render(c, http.StatusOK, views.PluginsPage(ch, d))
}

func (h *Handlers) installed(c echo.Context) ([]apispec.Installation, error) {
	return page.Installed(c, h.daemon)
}

func (h *Handlers) findInstalled(c echo.Context, pluginID string) (*apispec.Installation, error) {
	return page.FindInstalled(c, h.daemon, pluginID)
}

// filterPlugins keeps the plugins matching every filter: q in the label,
// plugin id, name or description (case-insensitive), the category and the tag.
func filterPlugins(list []apispec.Installation, f views.PluginFilter) []apispec.Installation {
	q := strings.ToLower(f.Q)
	var out []apispec.Installation
	for _, p := range list {
		if f.Category != "" && p.Category != f.Category {
			continue
		}
		if f.Tag != "" && !slices.Contains(tags(p), f.Tag) {
			continue
		}
		if q != "" && !strings.Contains(searchText(p), q) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// searchText is what the search box matches, lowercased.
func searchText(p apispec.Installation) string {
	parts := []string{p.PluginID, p.Name, views.PluginLabel(p), views.PluginDescription(p)}
	return strings.ToLower(strings.Join(parts, "\n"))
}

func tags(p apispec.Installation) []string {
	if p.Declaration == nil {
		return nil
	}
	return p.Declaration.Tags
}

// filterChoices returns the categories and tags the installed plugins have,
// sorted.
func filterChoices(list []apispec.Installation) (cats, tagList []string) {
	for _, p := range list {
		if p.Category != "" && !slices.Contains(cats, p.Category) {
			cats = append(cats, p.Category)
		}
		for _, t := range tags(p) {
			if !slices.Contains(tagList, t) {
				tagList = append(tagList, t)
			}
		}
	}
	slices.Sort(cats)
	slices.Sort(tagList)
	return cats, tagList
}
