package manager_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/manager"
)

// unpackedDir is where an upload of uid waits, unpacked, for its install.
func unpackedDir(tb testing.TB, dir, uid string) string {
	tb.Helper()
	id, err := plugboard.ParseIdentifier(uid)
	if err != nil {
		tb.Fatal(err)
	}
	return filepath.Join(dir, "unpacked", id.Author, id.Name+"-"+id.Version+"@"+id.Checksum)
}

// installUploaded installs an uploaded package and waits for its task to succeed.
func installUploaded(tb testing.TB, m *manager.Manager, uid string) {
	tb.Helper()
	res, err := m.Install(context.Background(), tenant, apispec.InstallRequest{PluginUniqueIdentifiers: []string{uid}, Source: "package"})
	if err != nil {
		tb.Fatal(err)
	}
	if res.AllInstalled {
		tb.Fatal("already installed")
	}
	if task := MustWaitTask(tb, m, res.TaskID); task.Status != apispec.TaskSuccess {
		tb.Fatalf("install task %s: %+v", task.Status, task.Plugins)
	}
}

// An upload is unpacked once; the install moves that tree into the working
// dir instead of extracting the package again.
func TestUploadUnpacks(t *testing.T) {
	t.Run("OKInstallMovesIt", func(t *testing.T) {
		dir := t.TempDir()
		m := MustOpen(t, dir)
		uid := MustUpload(t, m, pkgs.goV1)
		staged := unpackedDir(t, dir, uid)
		if !exists(filepath.Join(staged, "manifest.yaml")) {
			t.Fatalf("upload left no unpacked tree at %s", staged)
		}
		// A mark only the unpacked tree has: the install must use that tree.
		MustWriteFile(t, filepath.Join(staged, "unpacked-mark"))
		installUploaded(t, m, uid)
		if !exists(filepath.Join(workDir(t, dir, uid), "unpacked-mark")) {
			t.Error("the working dir is not the upload's unpacked tree")
		}
		if exists(staged) {
			t.Error("the unpacked tree is still there after the install")
		}
		MustEcho(t, m)
	})
	t.Run("OKWithoutItExtractsTheStoredPackage", func(t *testing.T) {
		dir := t.TempDir()
		m := MustOpen(t, dir)
		uid := MustUpload(t, m, pkgs.goV1)
		if err := os.RemoveAll(unpackedDir(t, dir, uid)); err != nil {
			t.Fatal(err)
		}
		installUploaded(t, m, uid)
		if !exists(filepath.Join(workDir(t, dir, uid), "manifest.yaml")) {
			t.Error("the stored package was not extracted")
		}
		MustEcho(t, m)
	})
	t.Run("OKRefusedLeavesNothing", func(t *testing.T) {
		dir := t.TempDir()
		m := MustOpen(t, dir)
		if _, err := m.Upload(context.Background(), tenant, []byte("not a zip")); err == nil {
			t.Fatal("a broken upload was accepted")
		}
		if entries, _ := os.ReadDir(filepath.Join(dir, "unpacked")); len(entries) != 0 {
			t.Errorf("a refused upload left %v under unpacked/", entries)
		}
	})
	t.Run("OKStaleRemovedAtOpen", func(t *testing.T) {
		dir := t.TempDir()
		m := MustOpen(t, dir)
		kept := MustUpload(t, m, pkgs.goV1)
		gone := MustUpload(t, m, pkgs.goV2)
		m.Close()
		if err := os.Remove(packageFile(t, dir, gone)); err != nil {
			t.Fatal(err)
		}
		interrupted := filepath.Join(dir, "unpacked", ".upload-interrupted")
		MustWriteFile(t, filepath.Join(interrupted, "x"))
		MustOpen(t, dir)
		if !exists(unpackedDir(t, dir, kept)) {
			t.Error("the unpacked tree of a stored package was removed")
		}
		if exists(unpackedDir(t, dir, gone)) || exists(interrupted) {
			t.Error("unpacked trees without a package file were kept")
		}
	})
	t.Run("OKSweptWithItsPackage", func(t *testing.T) {
		dir := t.TempDir()
		c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		m := MustOpenClocked(t, dir, c, time.Hour)
		uid := MustUpload(t, m, pkgs.goV2)
		c.Advance(25 * time.Hour)
		if n, err := m.SweepPackages(context.Background()); err != nil || n != 1 {
			t.Fatalf("swept %d, %v; want the upload", n, err)
		}
		if exists(unpackedDir(t, dir, uid)) {
			t.Error("the swept package's unpacked tree was kept")
		}
	})
}

// packageFile is the stored package file of uid in data dir.
func packageFile(tb testing.TB, dir, uid string) string {
	tb.Helper()
	id, err := plugboard.ParseIdentifier(uid)
	if err != nil {
		tb.Fatal(err)
	}
	return filepath.Join(dir, "packages", id.Author, id.Name+"-"+id.Version+"@"+id.Checksum+".difypkg")
}

// MustWriteFile creates an empty file and its folders.
func MustWriteFile(tb testing.TB, path string) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		tb.Fatal(err)
	}
}
