package state_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/state"
)

const uid = "acme/x:0.0.1@0123456789abcdef0123456789abcdef"

// MustOpen opens a fresh database in a temporary directory.
func MustOpen(tb testing.TB) (*state.DB, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "daemon.db")
	db, err := state.Open(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db, path
}

func MustPackage(tb testing.TB, db *state.DB) {
	tb.Helper()
	p := &state.Package{UniqueIdentifier: uid, PluginID: "acme/x", Version: "0.0.1", Checksum: "0123", Declaration: []byte(`{"name":"x"}`)}
	if err := db.CreatePackage(context.Background(), p); err != nil {
		tb.Fatal(err)
	}
}

func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if plugboard.ErrorCode(err) != code {
		tb.Fatalf("error = %v (code %s), want code %s", err, plugboard.ErrorCode(err), code)
	}
}

func TestOpen(t *testing.T) {
	t.Run("OKReopen", func(t *testing.T) {
		db, path := MustOpen(t)
		MustPackage(t, db)
		db.Close()
		db2, err := state.Open(context.Background(), path)
		if err != nil {
			t.Fatalf("reopen (migrations must not run twice): %v", err)
		}
		defer db2.Close()
		if _, err := db2.FindPackage(context.Background(), uid); err != nil {
			t.Fatal(err)
		}
	})
}

func TestPackage(t *testing.T) {
	ctx := context.Background()
	t.Run("OKIdempotent", func(t *testing.T) {
		db, _ := MustOpen(t)
		MustPackage(t, db)
		MustPackage(t, db)
		p, err := db.FindPackage(ctx, uid)
		if err != nil || string(p.Declaration) != `{"name":"x"}` || p.PluginID != "acme/x" {
			t.Fatalf("FindPackage = %+v, %v", p, err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		db, _ := MustOpen(t)
		_, err := db.FindPackage(ctx, uid)
		wantCode(t, err, plugboard.ENOTFOUND)
	})
}

func TestInstallation(t *testing.T) {
	ctx := context.Background()
	newInst := func(id, tenant string) *state.Installation {
		return &state.Installation{ID: id, TenantID: tenant, PluginID: "acme/x", UniqueIdentifier: uid, RuntimeType: "local", Meta: map[string]any{"k": "v"}}
	}
	t.Run("OK", func(t *testing.T) {
		db, _ := MustOpen(t)
		fixed := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
		db.Now = func() time.Time { return fixed }
		MustPackage(t, db)
		if err := db.CreateInstallation(ctx, newInst("i1", "t1")); err != nil {
			t.Fatal(err)
		}
		all, err := db.FindInstallations(ctx)
		if err != nil || len(all) != 1 || all[0].Meta["k"] != "v" || !all[0].CreatedAt.Equal(fixed) {
			t.Fatalf("FindInstallations = %+v, %v", all, err)
		}
	})
	t.Run("ErrDuplicate", func(t *testing.T) {
		db, _ := MustOpen(t)
		MustPackage(t, db)
		if err := db.CreateInstallation(ctx, newInst("i1", "t1")); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.CreateInstallation(ctx, newInst("i2", "t1")), plugboard.ECONFLICT)
	})
	t.Run("ErrUnknownPackage", func(t *testing.T) {
		db, _ := MustOpen(t)
		if err := db.CreateInstallation(ctx, newInst("i1", "t1")); err == nil {
			t.Fatal("installation of a package never uploaded was accepted")
		}
	})
	t.Run("OKDeleteKeepsSharedPackage", func(t *testing.T) {
		db, _ := MustOpen(t)
		MustPackage(t, db)
		for _, in := range []*state.Installation{newInst("i1", "t1"), newInst("i2", "t2")} {
			if err := db.CreateInstallation(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		t1, t2 := state.Storage{Tenant: "t1", PluginID: "acme/x"}, state.Storage{Tenant: "t2", PluginID: "acme/x"}
		for _, ns := range []state.Storage{t1, t2} {
			if err := db.SetStorage(ctx, ns, "k", []byte("v"), 10); err != nil {
				t.Fatal(err)
			}
		}
		if gone, err := db.DeleteInstallation(ctx, "i1"); err != nil || gone {
			t.Fatalf("first delete: package deleted = %v, %v; want false (t2 still uses it)", gone, err)
		}
		if ok, _ := db.StorageExists(ctx, t1, "k"); ok {
			t.Fatal("the uninstalled plugin's storage is left")
		}
		if ok, _ := db.StorageExists(ctx, t2, "k"); !ok {
			t.Fatal("another tenant's storage of the plugin went with the uninstall")
		}
		if gone, err := db.DeleteInstallation(ctx, "i2"); err != nil || !gone {
			t.Fatalf("last delete: package deleted = %v, %v; want true", gone, err)
		}
		_, err := db.FindPackage(ctx, uid)
		wantCode(t, err, plugboard.ENOTFOUND)
	})
	t.Run("ErrDeleteUnknown", func(t *testing.T) {
		db, _ := MustOpen(t)
		_, err := db.DeleteInstallation(ctx, "nope")
		wantCode(t, err, plugboard.ENOTFOUND)
	})
}

func TestTask(t *testing.T) {
	ctx := context.Background()
	newTask := func(id string) *apispec.Task {
		return &apispec.Task{ID: id, TenantID: "t1", Status: apispec.TaskRunning, TotalPlugins: 1,
			Plugins: []apispec.TaskPlugin{{PluginID: "acme/x", Status: apispec.TaskRunning}}}
	}
	t.Run("OK", func(t *testing.T) {
		db, _ := MustOpen(t)
		task := newTask("a")
		if err := db.CreateTask(ctx, task); err != nil {
			t.Fatal(err)
		}
		task.Status, task.Plugins[0].Message = apispec.TaskSuccess, "ready"
		if err := db.UpdateTask(ctx, task); err != nil {
			t.Fatal(err)
		}
		got, err := db.FindTask(ctx, "t1", "a")
		if err != nil || got.Status != apispec.TaskSuccess || got.Plugins[0].Message != "ready" {
			t.Fatalf("FindTask = %+v, %v", got, err)
		}
		if _, err := db.FindTask(ctx, "t2", "a"); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Errorf("another tenant's task: error = %v, want not_found", err)
		}
	})
	t.Run("ErrDeleteRunning", func(t *testing.T) {
		db, _ := MustOpen(t)
		if err := db.CreateTask(ctx, newTask("a")); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.DeleteTask(ctx, "t1", "a"), plugboard.ECONFLICT)
	})
	t.Run("OKFailUnfinished", func(t *testing.T) {
		db, _ := MustOpen(t)
		if err := db.CreateTask(ctx, newTask("a")); err != nil {
			t.Fatal(err)
		}
		if err := db.FailUnfinishedTasks(ctx, "interrupted"); err != nil {
			t.Fatal(err)
		}
		got, err := db.FindTask(ctx, "t1", "a")
		if err != nil || got.Status != apispec.TaskFailed || got.Plugins[0].Message != "interrupted" {
			t.Fatalf("FindTask = %+v, %v", got, err)
		}
		if err := db.DeleteTask(ctx, "t1", "a"); err != nil {
			t.Fatal(err)
		}
	})
}

// wantMode fails unless the file at path has the permission bits.
func wantMode(tb testing.TB, path string, want os.FileMode) {
	tb.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		tb.Errorf("%s: mode %o, want %o", filepath.Base(path), got, want)
	}
}

// TestOpenPrivate: the database holds the debug keys, so it and its WAL and
// shared-memory files are the owner's only, new or left 0644 by an older
// version.
func TestOpenPrivate(t *testing.T) {
	t.Run("OKNew", func(t *testing.T) {
		db, path := MustOpen(t)
		MustPackage(t, db)
		if _, err := db.DebugKey(context.Background(), "t1"); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			wantMode(t, p, 0o600)
		}
	})
	t.Run("OKNarrowsExisting", func(t *testing.T) {
		db, path := MustOpen(t)
		MustPackage(t, db)
		db.Close()
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			if err := os.Chmod(p, 0o644); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
		}
		db2, err := state.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		defer db2.Close()
		if _, err := db2.DebugKey(context.Background(), "t2"); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			wantMode(t, p, 0o600)
		}
	})
}
