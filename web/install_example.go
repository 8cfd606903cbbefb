package web

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/views"
)

// exampleFile is one decoded example package, cached until the file changes.
type exampleFile struct {
	mod  time.Time
	size int64
	pkg  *examplePackage
	err  error
}

// examplePackage is what the app keeps of an example package: its manifest
// and icon. Installing it reads the file again, so the app does not hold
// the packages' bytes (the Go example's are 12 MB).
type examplePackage struct {
	Path     string
	Manifest *plugboard.Manifest
	icon     []byte
	iconErr  error
}

// exampleCache keeps decoded example packages by path.
type exampleCache struct {
	mu    sync.Mutex
	files map[string]exampleFile
}

var examplesDecoded = &exampleCache{files: map[string]exampleFile{}}

// load decodes the package at p, or returns the cached result when the
// file has not changed.
func (ec *exampleCache) load(p string, fi os.FileInfo) (*examplePackage, error) {
	ec.mu.Lock()
	defer ec.mu.Unlock()
	if f, ok := ec.files[p]; ok && f.mod.Equal(fi.ModTime()) && f.size == fi.Size() {
		return f.pkg, f.err
	}
	pkg, err := decodeFile(p)
	ec.files[p] = exampleFile{mod: fi.ModTime(), size: fi.Size(), pkg: pkg, err: err}
	return pkg, err
}

func decodeFile(p string) (*examplePackage, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	pkg, err := pkgfmt.Decode(data, pkgfmt.DefaultLimits())
	if err != nil {
		return nil, err
	}
	ex := &examplePackage{Path: p, Manifest: pkg.Manifest}
	ex.icon, ex.iconErr = pkg.Asset(pkg.Manifest.Icon)
	return ex, nil
}

// examples lists the example packages in Config.Examples, each marked
// installed when a plugin with its id is in list.
func (s *Server) examples(list []apispec.Installation) []views.Example {
	if s.cfg.Examples == "" {
		return nil
	}
	paths, _ := filepath.Glob(filepath.Join(s.cfg.Examples, "*.difypkg"))
	sort.Strings(paths)
	var out []views.Example
	for _, p := range paths {
		out = append(out, s.example(p, list))
	}
	return out
}

func (s *Server) example(p string, list []apispec.Installation) views.Example {
	ex := views.Example{File: filepath.Base(p), Label: strings.TrimSuffix(filepath.Base(p), ".difypkg")}
	pkg, err := s.findExample(ex.File)
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

// findExample decodes one example by its file name (a bare *.difypkg
// name in the examples directory, nothing else).
func (s *Server) findExample(file string) (*examplePackage, error) {
	if s.cfg.Examples == "" || file != filepath.Base(file) || !strings.HasSuffix(file, ".difypkg") || strings.HasPrefix(file, ".") {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "There is no example package %q.", file)
	}
	p := filepath.Join(s.cfg.Examples, file)
	fi, err := os.Stat(p)
	if err != nil {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "There is no example package %q.", file)
	}
	return examplesDecoded.load(p, fi)
}

// exampleIcon serves an example package's icon, read from the file.
func (s *Server) exampleIcon(c echo.Context) error {
	pkg, err := s.findExample(c.QueryParam("file"))
	if err != nil {
		return err
	}
	data, err := pkg.icon, pkg.iconErr
	if err != nil {
		return err
	}
	return serveImage(c, pkg.Manifest.Icon, "", data)
}

// installExample uploads an example package to the daemon and installs it
// in one step, answering with the task's progress.
func (s *Server) installExample(c echo.Context) error {
	file := c.FormValue("file")
	pkg, err := s.findExample(file)
	if err != nil {
		return s.uploadFailed(c, file, err)
	}
	raw, err := os.ReadFile(pkg.Path)
	if err != nil {
		return s.uploadFailed(c, file, plugboard.Errorf(plugboard.ENOTFOUND, "There is no example package %q.", file))
	}
	src := packageSource{Kind: SourcePackage}
	vd, verified, err := s.verifyPackage(c, raw, src)
	if err != nil {
		return s.uploadFailed(c, file, err)
	}
	up, err := s.daemon.UploadPackage(ctx(c), file, bytes.NewReader(raw))
	if err != nil {
		return s.uploadFailed(c, file, err)
	}
	if verified {
		if err := s.recordVerdict(ctx(c), up.UniqueIdentifier, vd, src); err != nil {
			return err
		}
	}
	original := ""
	if in, err := s.findInstalled(c, up.Manifest.PluginID()); err == nil {
		original = in.PluginUniqueIdentifier
	}
	return s.startInstall(c, installChoice{uid: up.UniqueIdentifier, original: original}, src)
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
