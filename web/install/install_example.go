package install

import (
	"path/filepath"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// Examples lists the example packages, each marked installed when a
// plugin with its id is in list.
func (h *Handlers) Examples(list []apispec.Installation) []views.Example {
	var out []views.Example
	for _, file := range h.installs.ExampleFiles() {
		out = append(out, h.example(file, list))
	}
	return out
}

func (h *Handlers) example(file string, list []apispec.Installation) views.Example {
	ex := views.Example{File: file, Label: strings.TrimSuffix(filepath.Base(file), ".difypkg")}
	pkg, err := h.installs.FindExample(ex.File)
	if err != nil {
		ex.Err = "Can't read this example: " + plugboard.ErrorMessage(err)
		return ex
	}
	m := pkg.Manifest
	ex.PluginID, ex.Version, ex.Tags, ex.HasIcon = m.PluginID(), m.Version, m.Tags, m.Icon != ""
	ex.Label = orDefault(m.Label.English(), m.Name)
	ex.Description = m.Description.English()
	for _, in := range list {
		ex.Installed = ex.Installed || in.PluginID == ex.PluginID
	}
	return ex
}

// exampleIcon serves an example package's icon, read from the file.
func (h *Handlers) exampleIcon(c echo.Context) error {
	pkg, err := h.installs.FindExample(c.QueryParam("file"))
	if err != nil {
		return err
	}
	data, err := pkg.Icon()
	if err != nil {
		return err
	}
	return page.ServeImage(c, pkg.Manifest.Icon, "", data)
}

// installExample uploads an example package to the daemon and installs it
// (over the installed version, if any) in one step, answering with the
// task's progress.
func (h *Handlers) installExample(c echo.Context) error {
	file := c.FormValue("file")
	p, err := h.installs.PreviewExample(page.Ctx(c), page.CurrentUser(c), file)
	if err != nil {
		return h.uploadFailed(c, file, err)
	}
	return h.startInstall(c, p.Choice())
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
