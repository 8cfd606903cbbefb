package install

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/store"
)

// Example is what the service keeps of an example package: its manifest
// and icon. Installing it reads the file again, so the app does not hold
// the packages' bytes (the Go example's are 12 MB).
type Example struct {
	// File is the package's file name in the examples directory.
	File     string
	Manifest *plugboard.Manifest
	path     string
	icon     []byte
	iconErr  error
}

// Icon returns the icon file named by the manifest, read from the package.
func (e *Example) Icon() ([]byte, error) { return e.icon, e.iconErr }

// exampleFile is one decoded example package, cached until the file changes.
type exampleFile struct {
	mod  time.Time
	size int64
	pkg  *Example
	err  error
}

// exampleCache keeps decoded example packages by path.
type exampleCache struct {
	mu    sync.Mutex
	files map[string]exampleFile
}

var examplesDecoded = &exampleCache{files: map[string]exampleFile{}}

// load decodes the package at p, or returns the cached result when the
// file has not changed.
func (ec *exampleCache) load(p string, fi os.FileInfo) (*Example, error) {
	ec.mu.Lock()
	defer ec.mu.Unlock()
	if f, ok := ec.files[p]; ok && f.mod.Equal(fi.ModTime()) && f.size == fi.Size() {
		return f.pkg, f.err
	}
	pkg, err := decodeFile(p)
	ec.files[p] = exampleFile{mod: fi.ModTime(), size: fi.Size(), pkg: pkg, err: err}
	return pkg, err
}

func decodeFile(p string) (*Example, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	pkg, err := pkgfmt.Decode(data, pkgfmt.DefaultLimits())
	if err != nil {
		return nil, err
	}
	ex := &Example{File: filepath.Base(p), Manifest: pkg.Manifest, path: p}
	ex.icon, ex.iconErr = pkg.Asset(pkg.Manifest.Icon)
	return ex, nil
}

// ExampleFiles lists the file names of the example packages, sorted; none
// when no examples directory is configured.
func (s *Service) ExampleFiles() []string {
	if s.examples == "" {
		return nil
	}
	paths, _ := filepath.Glob(filepath.Join(s.examples, "*.difypkg"))
	sort.Strings(paths)
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}

// FindExample decodes one example by its file name (a bare *.difypkg name
// in the examples directory, nothing else); NotFound otherwise.
func (s *Service) FindExample(file string) (*Example, error) {
	if s.examples == "" || file != filepath.Base(file) || !strings.HasSuffix(file, ".difypkg") || strings.HasPrefix(file, ".") {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "There is no example package %q.", file)
	}
	p := filepath.Join(s.examples, file)
	fi, err := os.Stat(p)
	if err != nil {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "There is no example package %q.", file)
	}
	return examplesDecoded.load(p, fi)
}

// PreviewExample previews an example package (source: an uploaded file);
// installing it is one step for the user, so call Install with the
// preview's package and its Installed version as the original.
func (s *Service) PreviewExample(ctx context.Context, u *store.User, file string) (*Preview, error) {
	if err := s.MayInstall(ctx, u); err != nil {
		return nil, err
	}
	ex, err := s.FindExample(file)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(ex.path)
	if err != nil {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "There is no example package %q.", file)
	}
	return s.preview(ctx, file, raw, Source{Kind: SourcePackage})
}
