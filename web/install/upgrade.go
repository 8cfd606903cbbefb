package install

import (
	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	appinstall "github.com/plugboard/plugboard/app/install"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// VersionPicker is the detail page's version card for an installation,
// from the source it was installed from; nil when that source has no
// versions to offer (a local upload).
//
// GitHub installations are the GitHub source's: add a case here that lists
// the repository's releases.
func (h *Handlers) VersionPicker(c echo.Context, in apispec.Installation) *views.VersionPicker {
	switch in.Source {
	case appinstall.SourceMarketplace:
		return h.marketVersionPicker(c, in)
	default:
		return nil
	}
}

// marketVersionPicker lists the marketplace's versions of in.
func (h *Handlers) marketVersionPicker(c echo.Context, in apispec.Installation) *views.VersionPicker {
	v := &views.VersionPicker{PluginID: in.PluginID, Installed: in.Version, CanInstall: h.canInstall(c)}
	m, err := h.marketClient()
	if err == nil {
		v.Versions, err = m.Versions(page.Ctx(c), in.PluginID)
	}
	if err != nil {
		v.Err = "Can't read the marketplace's versions: " + plugboard.ErrorMessage(err)
		return v
	}
	if len(v.Versions) > 0 {
		v.Latest = v.Versions[0].Version
	}
	if a, err := h.store.AutoUpgrade(page.Ctx(c), in.PluginID); err == nil {
		v.Auto = &a
	}
	return v
}
