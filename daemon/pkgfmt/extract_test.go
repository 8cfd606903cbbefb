package pkgfmt_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/plugboard/plugboard"
)

func TestExtract(t *testing.T) {
	p := MustDecode(t, MustZip(t, binaryFiles(), ""))
	t.Run("OK", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "plugins", "gotools")
		if err := p.Extract(dir); err != nil {
			t.Fatal(err)
		}
		for _, f := range binaryFiles() {
			got, err := os.ReadFile(filepath.Join(dir, f.name))
			if err != nil || string(got) != f.body {
				t.Errorf("%s = %q, %v", f.name, got, err)
			}
		}
		assertMode(t, filepath.Join(dir, "bin/amd64/gotools"), 0o755)
		assertMode(t, filepath.Join(dir, "manifest.yaml"), 0o644)
		assertMode(t, dir, 0o755)
		if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".*")); len(leftovers) != 0 {
			t.Errorf("temporary files left behind: %v", leftovers)
		}
	})
	t.Run("ErrExists", func(t *testing.T) {
		dir := t.TempDir()
		MustWrite(t, filepath.Join(dir, "mine.txt"), []byte("keep"), 0)
		err := p.Extract(dir)
		if code := plugboard.ErrorCode(err); code != plugboard.ECONFLICT {
			t.Fatalf("Extract into an existing dir: %v (code %s), want conflict", err, code)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Errorf("existing dir was changed: %v", entries)
		}
		if siblings, _ := os.ReadDir(filepath.Dir(dir)); len(siblings) != 1 {
			t.Errorf("temporary dir left behind: %v", siblings)
		}
	})
	t.Run("ErrParentIsFile", func(t *testing.T) {
		parent := filepath.Join(t.TempDir(), "file")
		MustWrite(t, parent, []byte("x"), 0)
		if err := p.Extract(filepath.Join(parent, "gotools")); err == nil {
			t.Fatal("Extract under a regular file succeeded")
		}
	})
}

// assertMode checks the permission bits of a path.
func assertMode(tb testing.TB, name string, want os.FileMode) {
	tb.Helper()
	info, err := os.Stat(name)
	if err != nil {
		tb.Fatal(err)
	}
	if got := info.Mode().Perm(); got != want {
		tb.Errorf("%s mode = %o, want %o", name, got, want)
	}
}
