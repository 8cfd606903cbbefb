package web

import (
	"path/filepath"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/views"
)

// examples lists the example packages, each marked installed when a
// plugin with its id is in list.
func (s *Server) examples(list []apispec.Installation) []views.Example {
	var out []views.Example
	for _, file := range s.installs.ExampleFiles() {
		out = append(out, s.example(file, list))
	}
	return out
}

func (s *Server) example(file string, list []apispec.Installation) views.Example {
	ex := views.Example{File: file, Label: strings.TrimSuffix(filepath.Base(file), ".difypkg")}
	pkg, err := s.installs.FindExample(ex.File)
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
func (s *Server) exampleIcon(c echo.Context) error {
	pkg, err := s.installs.FindExample(c.QueryParam("file"))
	if err != nil {
		return err
	}
	data, err := pkg.Icon()
	if err != nil {
		return err
	}
	return serveImage(c, pkg.Manifest.Icon, "", data)
}

// installExample uploads an example package to the daemon and installs it
// (over the installed version, if any) in one step, answering with the
// task's progress.
func (s *Server) installExample(c echo.Context) error {
	file := c.FormValue("file")
	p, err := s.installs.PreviewExample(ctx(c), CurrentUser(c), file)
	if err != nil {
		return s.uploadFailed(c, file, err)
	}
	return s.startInstall(c, p.Choice())
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
