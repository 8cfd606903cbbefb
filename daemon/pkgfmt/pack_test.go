package pkgfmt_test

import (
	"archive/zip"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

// sourceFS lays the binary plugin out as a source directory, with Go
// sources and other clutter that .difyignore must leave out.
func sourceFS() fstest.MapFS {
	m := fstest.MapFS{}
	for _, f := range binaryFiles() {
		mode := f.mode
		if mode == 0 {
			mode = 0o644
		}
		m[f.name] = &fstest.MapFile{Data: []byte(f.body), Mode: mode}
	}
	m[".difyignore"] = &fstest.MapFile{Data: []byte("# sources\n*.go\ngo.mod\ngo.sum\n/build/\ntestdata/\n**/*.tmp\n!keep.tmp\n")}
	for _, p := range []string{"main.go", "internal/tool.go", "go.mod", "go.sum", "build/out", "testdata/x.yaml", "a/b/c.tmp", ".git/HEAD", "sub/.git/config"} {
		m[p] = &fstest.MapFile{Data: []byte("x")}
	}
	m["keep.tmp"] = &fstest.MapFile{Data: []byte("kept")}
	m["docs/build"] = &fstest.MapFile{Data: []byte("a file named build, not the root build/ dir")}
	return m
}

func TestPack(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		data, p, err := pkgfmt.Pack(sourceFS(), pkgfmt.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		want := []string{".difyignore", "_assets/icon.png", "bin/amd64/gotools", "bin/arm64/gotools", "docs/build", "keep.tmp",
			"manifest.yaml", "provider/gotools.yaml", "tools/render.yaml", "tools/whoami.yaml"}
		if got := p.Files(); !slices.Equal(got, want) {
			t.Errorf("packed files = %q\nwant %q", got, want)
		}
		if p.ID.PluginID() != "plugboard/gotools" || !bytes.Equal(p.Raw, data) {
			t.Errorf("ID = %s", p.ID)
		}
		modes := zipModes(t, data)
		if modes["bin/amd64/gotools"] != 0o755 || modes["manifest.yaml"] != 0o644 {
			t.Errorf("modes = %v", modes)
		}
	})
	t.Run("OKDeterministic", func(t *testing.T) {
		a, _, err := pkgfmt.Pack(sourceFS(), pkgfmt.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		b, _, _ := pkgfmt.Pack(sourceFS(), pkgfmt.DefaultLimits())
		if !bytes.Equal(a, b) {
			t.Error("packing the same sources twice gave different bytes")
		}
	})
	t.Run("OKBuiltAndSkip", func(t *testing.T) {
		src := sourceFS()
		src["bin/amd64/.gotools.99-1.tmp"] = &fstest.MapFile{Data: []byte("half-written")}
		built := fstest.MapFS{
			"bin/amd64/gotools": &fstest.MapFile{Data: []byte("fresh amd64"), Mode: 0o755},
			"bin/extra/tool":    &fstest.MapFile{Data: []byte("beside"), Mode: 0o755},
		}
		skip := func(p string) bool { return strings.HasSuffix(p, ".tmp") && p != "keep.tmp" }
		data, p, err := pkgfmt.PackWith(src, pkgfmt.DefaultLimits(), pkgfmt.PackOptions{Built: built, Skip: skip})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{".difyignore", "_assets/icon.png", "bin/amd64/gotools", "bin/arm64/gotools", "bin/extra/tool", "docs/build",
			"keep.tmp", "manifest.yaml", "provider/gotools.yaml", "tools/render.yaml", "tools/whoami.yaml"}
		if got := p.Files(); !slices.Equal(got, want) {
			t.Errorf("packed files = %q\nwant %q", got, want)
		}
		if got, _ := p.ReadFile("bin/amd64/gotools"); string(got) != "fresh amd64" {
			t.Errorf("bin/amd64/gotools = %q, want the build's", got)
		}
		if modes := zipModes(t, data); modes["bin/extra/tool"] != 0o755 {
			t.Errorf("modes = %v", modes)
		}
	})
	t.Run("OKOSDir", func(t *testing.T) {
		dir := t.TempDir()
		for name, f := range sourceFS() {
			MustWrite(t, filepath.Join(dir, name), f.Data, f.Mode)
		}
		_, p, err := pkgfmt.Pack(os.DirFS(dir), pkgfmt.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Files()) != 10 {
			t.Errorf("files = %q", p.Files())
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		src := sourceFS()
		src["manifest.yaml"] = &fstest.MapFile{Data: []byte(strings.Replace(binaryManifest, ", entrypoint: gotools", "", 1))}
		_, _, err := pkgfmt.Pack(src, pkgfmt.DefaultLimits())
		MustReject(t, err, "manifest.yaml", "meta.runner.entrypoint", "required")
	})
	t.Run("ErrSymlink", func(t *testing.T) {
		dir := t.TempDir()
		for name, f := range sourceFS() {
			MustWrite(t, filepath.Join(dir, name), f.Data, f.Mode)
		}
		if err := os.Symlink("/etc/passwd", filepath.Join(dir, "passwd")); err != nil {
			t.Fatal(err)
		}
		_, _, err := pkgfmt.Pack(os.DirFS(dir), pkgfmt.DefaultLimits())
		MustReject(t, err, "passwd", "", "only regular files")
	})
}

// MustWrite writes a file, creating its directory.
func MustWrite(tb testing.TB, name string, data []byte, mode fs.FileMode) {
	tb.Helper()
	if mode == 0 {
		mode = 0o644
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(name, data, mode); err != nil {
		tb.Fatal(err)
	}
	if err := os.Chmod(name, mode); err != nil {
		tb.Fatal(err)
	}
}

// zipModes returns the permission bits of each entry of a zip.
func zipModes(tb testing.TB, data []byte) map[string]fs.FileMode {
	tb.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]fs.FileMode{}
	for _, f := range zr.File {
		out[f.Name] = f.Mode().Perm()
	}
	return out
}
