package page

import (
	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
)

// Installed lists the daemon's installations (up to PluginListSize).
func Installed(c echo.Context, d *client.Client) ([]apispec.Installation, error) {
	list, err := d.List(Ctx(c), 1, PluginListSize)
	if err != nil {
		return nil, err
	}
	return list.List, nil
}

// FindInstalled returns the installation of a plugin ("author/name"), or a
// not-found error naming it.
func FindInstalled(c echo.Context, d *client.Client, pluginID string) (*apispec.Installation, error) {
	list, err := Installed(c, d)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].PluginID == pluginID {
			return &list[i], nil
		}
	}
	return nil, plugboard.Errorf(plugboard.ENOTFOUND, "The plugin %s is not installed.", pluginID)
}
