package pkgfmt_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

// largeFiles is binaryFiles with an executable larger than what a decoded
// package keeps in memory, so it is read again from the zip.
func largeFiles() files {
	big := make([]byte, 600<<10)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte('a' + r.IntN(16)) // compressible enough for the ratio check, not trivially
	}
	return binaryFiles().with("bin/amd64/gotools", string(big))
}

func TestDecodeInto(t *testing.T) {
	data := MustZip(t, largeFiles(), "")
	t.Run("OK", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "staged", "gotools")
		p, err := pkgfmt.DecodeInto(data, pkgfmt.DefaultLimits(), dir)
		if err != nil {
			t.Fatal(err)
		}
		if want := MustDecode(t, data).ID; p.ID != want {
			t.Errorf("ID = %v, want Decode's %v", p.ID, want)
		}
		for _, f := range largeFiles() {
			got, err := os.ReadFile(filepath.Join(dir, f.name))
			if err != nil || string(got) != f.body {
				t.Errorf("%s = %.20q (%d bytes), %v; want %d bytes", f.name, got, len(got), err, len(f.body))
			}
		}
		assertMode(t, filepath.Join(dir, "bin/amd64/gotools"), 0o755)
		assertMode(t, filepath.Join(dir, "manifest.yaml"), 0o644)
		if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".*")); len(leftovers) != 0 {
			t.Errorf("temporary files left behind: %v", leftovers)
		}
	})
	t.Run("ErrRefusedLeavesNothing", func(t *testing.T) {
		parent := t.TempDir()
		dir := filepath.Join(parent, "gotools")
		bad := MustZip(t, largeFiles().without("tools/render.yaml"), "")
		_, err := pkgfmt.DecodeInto(bad, pkgfmt.DefaultLimits(), dir)
		if code := plugboard.ErrorCode(err); code != plugboard.EINVALID {
			t.Fatalf("DecodeInto(a package missing a tool file) = %v (code %s), want invalid", err, code)
		}
		if entries, _ := os.ReadDir(parent); len(entries) != 0 {
			t.Errorf("a refused package left %v behind", entries)
		}
	})
	t.Run("ErrExists", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := pkgfmt.DecodeInto(data, pkgfmt.DefaultLimits(), dir); plugboard.ErrorCode(err) != plugboard.ECONFLICT {
			t.Fatalf("DecodeInto an existing dir = %v, want conflict", err)
		}
	})
}

// A large file is not kept in memory by Decode, but reading or extracting
// it inflates it again, whole.
func TestDecodeLargeFile(t *testing.T) {
	want := largeFiles()
	p := MustDecode(t, MustZip(t, want, ""))
	got, err := p.ReadFile("bin/amd64/gotools")
	if err != nil || string(got) != want[5].body {
		t.Fatalf("ReadFile = %d bytes, %v; want %d bytes", len(got), err, len(want[5].body))
	}
	dir := filepath.Join(t.TempDir(), "gotools")
	if err := p.Extract(dir); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "bin/amd64/gotools")); err != nil || string(got) != want[5].body {
		t.Fatalf("extracted = %d bytes, %v; want %d bytes", len(got), err, len(want[5].body))
	}
}

// A decoded package holds its zip and small files, not its large files
// inflated: decoding a package with an 8 MiB executable grows the live heap
// by about the zip's size, not by the zip and the executable.
func TestDecodeHoldsLittle(t *testing.T) {
	big := make([]byte, 8<<20)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range big {
		big[i] = byte('a' + r.IntN(16))
	}
	data := MustZip(t, binaryFiles().with("bin/amd64/gotools", string(big)), "")
	big = nil
	before := liveHeap()
	p := MustDecode(t, data)
	grown := liveHeap() - before
	if limit := int64(1 << 20); grown > limit {
		t.Errorf("a decoded package holds %d bytes besides its %d-byte zip, want at most %d", grown, len(data), limit)
	}
	runtime.KeepAlive(p)
}

// liveHeap is the heap in use after a collection.
func liveHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
