package manager_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/manager"
	"github.com/plugboard/plugboard/daemon/runner"
)

// clock is a settable time for Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// MustOpenClocked opens a manager on dir whose time is c's, sweeping every
// interval.
func MustOpenClocked(tb testing.TB, dir string, c *clock, interval time.Duration) *manager.Manager {
	tb.Helper()
	m, err := manager.Open(context.Background(), manager.Config{DataDir: dir, Runner: runner.Options{Offline: true},
		Now: c.Now, SweepInterval: interval})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	return m
}

// packageFiles lists the stored package files under dir.
func packageFiles(tb testing.TB, dir string) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "packages", "*", "*.difypkg"))
	if err != nil {
		tb.Fatal(err)
	}
	return files
}

func TestSweepPackages(t *testing.T) {
	ctx := context.Background()
	t.Run("OKOldUnusedRemoved", func(t *testing.T) {
		dir := t.TempDir()
		c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		m := MustOpenClocked(t, dir, c, time.Hour)
		installed := MustInstall(t, m, pkgs.goV1)
		stale := MustUpload(t, m, pkgs.goV2)
		refreshed := MustUpload(t, m, pkgs.py)
		c.Advance(23 * time.Hour)
		MustUpload(t, m, pkgs.py) // uploaded again: its day starts over
		if n, err := m.SweepPackages(ctx); err != nil || n != 0 {
			t.Fatalf("swept %d (%v) within a day of the uploads", n, err)
		}
		c.Advance(2 * time.Hour)
		if n, err := m.SweepPackages(ctx); err != nil || n != 1 {
			t.Fatalf("swept %d, %v; want only the stale upload", n, err)
		}
		if _, err := m.Manifest(ctx, stale); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("stale package still recorded: %v", err)
		}
		for _, uid := range []string{installed, refreshed} {
			if _, err := m.Manifest(ctx, uid); err != nil {
				t.Errorf("%s was swept: %v", uid, err)
			}
		}
		if files := packageFiles(t, dir); len(files) != 2 {
			t.Fatalf("package files left: %v; want the installed and the refreshed one", files)
		}
		MustEcho(t, m) // the installed plugin still works
	})
	t.Run("OKSweptInBackground", func(t *testing.T) {
		dir := t.TempDir()
		c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		m := MustOpenClocked(t, dir, c, 10*time.Millisecond)
		MustUpload(t, m, pkgs.goV2)
		c.Advance(manager.DefaultPackageTTL + time.Minute)
		waitFor(t, "the background sweep to remove the upload", func() bool { return len(packageFiles(t, dir)) == 0 })
		if err := m.Close(); err != nil { // cancels the sweep and waits for it
			t.Fatal(err)
		}
	})
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
