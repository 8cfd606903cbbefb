package install_test

import (
	"context"
	"testing"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/apptest"
	"github.com/plugboard/plugboard/app/install"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/signature"
	"github.com/plugboard/plugboard/store"
)

// Services is the install service over a real daemon and a fresh store,
// with an admin and a member.
type Services struct {
	Installs    *install.Service
	Daemon      *client.Client
	Store       *store.DB
	Ann, Bob    *store.User
	ExamplesDir string
}

// MustServices starts a daemon and the service, its examples directory
// holding pytools 0.0.1.
func MustServices(tb testing.TB) *Services {
	tb.Helper()
	s := &Services{Daemon: apptest.MustDaemon(tb), Store: apptest.MustStore(tb), ExamplesDir: apptest.MustMarketFolder(tb, "0.0.1")}
	s.Ann = apptest.MustUser(tb, s.Store, "ann", store.RoleAdmin)
	s.Bob = apptest.MustUser(tb, s.Store, "bob", store.RoleMember)
	s.Installs = install.New(install.Config{Store: s.Store, Daemon: s.Daemon, Examples: s.ExamplesDir})
	tb.Cleanup(s.Installs.Close)
	return s
}

// upload is pytools as uploaded by hand.
func upload(tb testing.TB) install.Package {
	return install.Package{Name: "pytools.difypkg", Data: apptest.MustPytools(tb), Source: install.Source{Kind: install.SourcePackage}}
}

// MustAuditEntry polls the audit log for an entry of the action with the
// outcome, and fails after 20 s without one.
func MustAuditEntry(tb testing.TB, db *store.DB, action, outcome string) *store.AuditEntry {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		entries, _, err := db.FindAuditEntries(context.Background(), store.AuditFilter{Action: action, PerPage: 50})
		if err != nil {
			tb.Fatal(err)
		}
		for i := range entries {
			if entries[i].Outcome == outcome {
				return entries[i]
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no %s entry with outcome %s in %+v", action, outcome, entries)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestInstall(t *testing.T) {
	s := MustServices(t)
	ctx := store.WithOrigin(t.Context(), "192.0.2.7")
	p, err := s.Installs.Preview(ctx, s.Ann, upload(t))
	if err != nil {
		t.Fatal(err)
	}
	if p.Verdict.Status != signature.Unsigned || p.Installed != nil || p.Upload.Manifest.PluginID() != "plugboard/pytools" {
		t.Fatalf("preview = %+v", p)
	}
	st, err := s.Installs.Install(ctx, s.Ann, p.Choice())
	if err != nil || st.TaskID == "" || st.AlreadyInstalled {
		t.Fatalf("install = %+v, %v", st, err)
	}
	started := MustAuditEntry(t, s.Store, store.AuditPluginInstall, store.OutcomeStarted)
	if started.Actor != "ann" || started.Detail != "task "+st.TaskID+" from package" || started.Address != "192.0.2.7" {
		t.Fatalf("started entry = %+v", started)
	}
	// The service follows the task and audits its end, from the same address.
	done := MustAuditEntry(t, s.Store, store.AuditPluginInstall, store.OutcomeSuccess)
	if done.Detail != "task "+st.TaskID+" finished" || done.Address != "192.0.2.7" {
		t.Fatalf("finished entry = %+v", done)
	}
	in, err := s.Installs.Installation(ctx, "plugboard/pytools")
	if err != nil || in.Source != install.SourcePackage {
		t.Fatalf("installation = %+v, %v", in, err)
	}

	t.Run("AlreadyInstalled", func(t *testing.T) {
		again, err := s.Installs.Preview(ctx, s.Ann, upload(t))
		if err != nil || again.Installed == nil {
			t.Fatalf("preview = %+v, %v; want the installation", again, err)
		}
		st, err := s.Installs.Install(ctx, s.Ann, again.Choice())
		if err != nil || !st.AlreadyInstalled || st.TaskID != "" {
			t.Fatalf("install = %+v, %v", st, err)
		}
	})
	t.Run("Uninstall", func(t *testing.T) {
		if _, err := s.Installs.Uninstall(ctx, s.Bob, "plugboard/pytools", false); plugboard.ErrorCode(err) != plugboard.EFORBIDDEN {
			t.Fatalf("a member uninstalled: %v", err)
		}
		out, err := s.Installs.Uninstall(ctx, s.Ann, "plugboard/pytools", true)
		if err != nil || out.Installation.PluginID != "plugboard/pytools" || out.CredentialsDeleted != 0 {
			t.Fatalf("uninstall = %+v, %v", out, err)
		}
		if e := MustAuditEntry(t, s.Store, store.AuditPluginUninstall, store.OutcomeSuccess); e.Detail != "version 0.0.1" {
			t.Fatalf("uninstall entry = %+v", e)
		}
		if _, err := s.Installs.Uninstall(ctx, s.Ann, "plugboard/pytools", false); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("uninstalled twice: %v", err)
		}
	})
}

// TestInstallPermission: the service refuses an actor the install
// permission does not allow, whatever the caller checked before.
func TestInstallPermission(t *testing.T) {
	s := MustServices(t)
	t.Run("ErrMember", func(t *testing.T) {
		_, err := s.Installs.Preview(t.Context(), s.Bob, upload(t))
		if plugboard.ErrorCode(err) != plugboard.EFORBIDDEN || plugboard.ErrorMessage(err) != "Only admins may install plugins here (Settings → Permissions)." {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrNoUser", func(t *testing.T) {
		if _, err := s.Installs.Install(t.Context(), nil, install.Choice{}); plugboard.ErrorCode(err) != plugboard.EFORBIDDEN {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrNobody", func(t *testing.T) {
		if err := s.Store.SetPermissions(t.Context(), "ann", store.Permissions{Install: store.PermNobody, Debug: store.PermAdmins}); err != nil {
			t.Fatal(err)
		}
		_, err := s.Installs.PreviewExample(t.Context(), s.Ann, "pytools-0.0.1.difypkg")
		if plugboard.ErrorCode(err) != plugboard.EFORBIDDEN {
			t.Fatalf("err = %v", err)
		}
		if page, _ := s.Daemon.List(t.Context(), 1, 10); len(page.List) != 0 {
			t.Fatalf("installed %+v", page.List)
		}
	})
}

// TestInstallPolicy: a package previewed before the policy was tightened
// is refused at install, and the refusal is audited.
func TestInstallPolicy(t *testing.T) {
	s := MustServices(t)
	p, err := s.Installs.PreviewExample(t.Context(), s.Ann, "pytools-0.0.1.difypkg")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Store.SetSignaturePolicy(t.Context(), "ann", store.PolicyMarketplaceOnly); err != nil {
		t.Fatal(err)
	}
	t.Run("ErrPreview", func(t *testing.T) {
		_, err := s.Installs.Preview(t.Context(), s.Ann, upload(t))
		if plugboard.ErrorCode(err) != plugboard.EINVALID {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrInstall", func(t *testing.T) {
		// The form claims the marketplace; the source recorded at the preview counts.
		ch := p.Choice()
		ch.Source.Kind = install.SourceMarketplace
		if _, err := s.Installs.Install(t.Context(), s.Ann, ch); plugboard.ErrorCode(err) != plugboard.EINVALID {
			t.Fatalf("err = %v", err)
		}
		e := MustAuditEntry(t, s.Store, store.AuditPluginInstall, store.OutcomeRefused)
		if e.Target != "plugboard/pytools" || e.Actor != "ann" {
			t.Fatalf("refusal entry = %+v", e)
		}
	})
}

func TestExamples(t *testing.T) {
	s := MustServices(t)
	if got := s.Installs.ExampleFiles(); len(got) != 1 || got[0] != "pytools-0.0.1.difypkg" {
		t.Fatalf("example files = %v", got)
	}
	ex, err := s.Installs.FindExample("pytools-0.0.1.difypkg")
	if err != nil || ex.Manifest.Version != "0.0.1" {
		t.Fatalf("example = %+v, %v", ex, err)
	}
	if icon, err := ex.Icon(); err != nil || len(icon) == 0 {
		t.Fatalf("icon: %d bytes, %v", len(icon), err)
	}
	for _, bad := range []string{"../pytools-0.0.1.difypkg", ".hidden.difypkg", "pytools-0.0.1.zip", "missing.difypkg"} {
		if _, err := s.Installs.FindExample(bad); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Errorf("FindExample(%q) = %v, want not found", bad, err)
		}
	}
}

// TestClose: Close returns while a followed task may still run (it goes on
// in the daemon, unaudited), and the service is done with it.
func TestClose(t *testing.T) {
	s := MustServices(t)
	p, err := s.Installs.Preview(t.Context(), s.Ann, upload(t))
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.Installs.Install(t.Context(), s.Ann, p.Choice())
	if err != nil {
		t.Fatal(err)
	}
	s.Installs.Close()
	if _, err := s.Daemon.WaitTask(t.Context(), st.TaskID); err != nil {
		t.Fatal(err)
	}
}
