package upgrade_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/app/apptest"
	"github.com/plugboard/plugboard/app/install"
	"github.com/plugboard/plugboard/app/upgrade"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
)

// scheduled is a scheduler over a real daemon with pytools 0.0.1 installed
// from a marketplace folder that also has 0.0.2, and a fresh store.
type scheduled struct {
	cl    *client.Client
	db    *store.DB
	sched *upgrade.Scheduler
	now   time.Time
}

func mustScheduled(tb testing.TB, now time.Time) *scheduled {
	tb.Helper()
	cl := apptest.MustDaemon(tb)
	folder := apptest.MustMarketFolder(tb, "0.0.1", "0.0.2")
	apptest.MustMarketInstall(tb, cl, folder, "0.0.1")
	m, err := install.NewMarketplace("", folder, nil)
	if err != nil {
		tb.Fatal(err)
	}
	s := &scheduled{cl: cl, db: apptest.MustStore(tb), now: now}
	installs := install.New(install.Config{Store: s.db, Daemon: cl, Marketplace: m, Now: func() time.Time { return s.now }})
	tb.Cleanup(installs.Close)
	s.sched = upgrade.New(upgrade.Config{Store: s.db, Installs: installs, Now: func() time.Time { return s.now }})
	tb.Cleanup(s.sched.Close)
	err = s.db.SetAutoUpgrade(context.Background(), store.AutoUpgrade{PluginID: "plugboard/pytools", Strategy: store.AutoUpgradeLatest, Minute: 3 * 60})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// waitTasks waits for every task of the daemon to end.
func waitTasks(tb testing.TB, cl *client.Client, want int) {
	tb.Helper()
	tasks, err := cl.Tasks(context.Background(), 1, 10)
	if err != nil || len(tasks) != want {
		tb.Fatalf("tasks = %d, %v; want %d", len(tasks), err, want)
	}
	for _, task := range tasks {
		if _, err := cl.WaitTask(context.Background(), task.ID); err != nil {
			tb.Fatal(err)
		}
	}
}

func TestOnce(t *testing.T) {
	s := mustScheduled(t, time.Date(2026, 5, 1, 2, 0, 0, 0, time.UTC))
	s.sched.Once(t.Context())
	if a, _ := s.db.AutoUpgrade(t.Context(), "plugboard/pytools"); !a.LastRun.IsZero() {
		t.Fatalf("ran at 02:00 for 03:00: %+v", a)
	}
	s.now = s.now.Add(65 * time.Minute)
	s.sched.Once(t.Context())
	waitTasks(t, s.cl, 2) // the install and the upgrade
	if v := apptest.InstalledVersion(t, s.cl); v != "0.0.2" {
		t.Fatalf("after the auto-upgrade: %s, want 0.0.2", v)
	}
	entries, _, _ := s.db.FindAuditEntries(t.Context(), store.AuditFilter{Action: upgrade.AuditAction})
	if len(entries) != 1 || entries[0].Actor != "auto-upgrade" || !strings.Contains(entries[0].Detail, "upgrading from 0.0.1 to 0.0.2") {
		t.Fatalf("audit = %+v", entries)
	}
	if a, _ := s.db.AutoUpgrade(t.Context(), "plugboard/pytools"); !a.LastRun.Equal(s.now) {
		t.Fatalf("last run %v, want %v", a.LastRun, s.now)
	}
}

// TestOnceRefusedByPolicy: a scheduled upgrade goes through the same
// signature policy as an install by hand, so under "require a trusted
// signature" an unsigned newer version is not installed.
func TestOnceRefusedByPolicy(t *testing.T) {
	s := mustScheduled(t, time.Date(2026, 5, 1, 3, 5, 0, 0, time.UTC))
	if err := s.db.SetSignaturePolicy(t.Context(), "ada", store.PolicyRequireTrusted); err != nil {
		t.Fatal(err)
	}
	s.sched.Once(t.Context())
	waitTasks(t, s.cl, 1) // only the install
	if v := apptest.InstalledVersion(t, s.cl); v != "0.0.1" {
		t.Fatalf("after a refused auto-upgrade: %s, want 0.0.1", v)
	}
	entries, _, _ := s.db.FindAuditEntries(t.Context(), store.AuditFilter{Action: upgrade.AuditAction})
	if len(entries) != 1 || !strings.Contains(entries[0].Detail, "failed: Refused: the signature policy requires a trusted signature") {
		t.Fatalf("audit = %+v", entries)
	}
}

// TestStartClose: a started scheduler upgrades on its own tick, and Close
// stops it and waits.
func TestStartClose(t *testing.T) {
	cl := apptest.MustDaemon(t)
	folder := apptest.MustMarketFolder(t, "0.0.1", "0.0.2")
	apptest.MustMarketInstall(t, cl, folder, "0.0.1")
	m, err := install.NewMarketplace("", folder, nil)
	if err != nil {
		t.Fatal(err)
	}
	db := apptest.MustStore(t)
	installs := install.New(install.Config{Store: db, Daemon: cl, Marketplace: m})
	defer installs.Close()
	now := func() time.Time { return time.Date(2026, 5, 1, 3, 5, 0, 0, time.UTC) }
	sched := upgrade.New(upgrade.Config{Store: db, Installs: installs, Now: now, Every: 10 * time.Millisecond})
	if err := db.SetAutoUpgrade(t.Context(), store.AutoUpgrade{PluginID: "plugboard/pytools", Strategy: store.AutoUpgradeLatest, Minute: 3 * 60}); err != nil {
		t.Fatal(err)
	}
	sched.Start()
	sched.Start() // a second Start does nothing
	deadline := time.Now().Add(20 * time.Second)
	for {
		if a, _ := db.AutoUpgrade(t.Context(), "plugboard/pytools"); !a.LastRun.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the started scheduler never ran")
		}
		time.Sleep(10 * time.Millisecond)
	}
	sched.Close()
	waitTasks(t, cl, 2)
	entries, _, _ := db.FindAuditEntries(t.Context(), store.AuditFilter{Action: upgrade.AuditAction})
	if len(entries) != 1 {
		t.Fatalf("after Close: %d auto-upgrade entries, want the one run (marked run, then due tomorrow)", len(entries))
	}
}
