package web_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/daemon/signature"
	"github.com/plugboard/plugboard/store"
)

// MustUninstallable packs the Python example asking for a Python no host
// has, so that its install fails at verifying.
func MustUninstallable(tb testing.TB) []byte {
	tb.Helper()
	dir := tb.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../examples/plugins/pytools")); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, "manifest.yaml")
	m, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	m = []byte(strings.Replace(string(m), `version: "3.10"`, `version: "3.99"`, 1))
	if err := os.WriteFile(path, m, 0o644); err != nil {
		tb.Fatal(err)
	}
	data, _, err := pkgfmt.Pack(os.DirFS(dir), pkgfmt.DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// TestTaskIndicator: the header's "failed" badge shows installers the
// failures they have not seen, clears once they open the tasks page, and
// members who may not install never get it.
func TestTaskIndicator(t *testing.T) {
	daemonURL, cl := MustDaemon(t)
	app := MustApp(t, daemonURL)
	app.MustUser(t, "ann", store.RoleAdmin)
	app.MustUser(t, "amy", store.RoleAdmin)
	app.MustUser(t, "bob", store.RoleMember)
	ctx := context.Background()
	up, err := cl.UploadPackage(ctx, "bad.difypkg", strings.NewReader(string(MustUninstallable(t))))
	if err != nil {
		t.Fatal(err)
	}
	res, err := cl.Install(ctx, []string{up.UniqueIdentifier}, "package", nil)
	if err != nil {
		t.Fatal(err)
	}
	if task, err := cl.WaitTask(ctx, res.TaskID); err == nil && task.Status != "failed" {
		t.Fatalf("the install did not fail: %+v", task)
	}
	ann, amy, bob := app.NewBrowser(t), app.NewBrowser(t), app.NewBrowser(t)
	ann.MustLogin("ann")
	amy.MustLogin("amy")
	bob.MustLogin("bob")

	t.Run("OKUnseenFailureShown", func(t *testing.T) {
		if got := ann.Get("/tasks/indicator").TestID("tasks-failed").Text(); got != "1 failed" {
			t.Fatalf("badge %q, want 1 failed", got)
		}
	})
	t.Run("OKClearsOnceSeen", func(t *testing.T) {
		wantStatus(t, ann.Get("/tasks"), http.StatusOK)
		if n := ann.Get("/tasks/indicator").TestID("tasks-failed").Length(); n != 0 {
			t.Fatal("the failed badge stays after the tasks page was opened")
		}
		if got := amy.Get("/tasks/indicator").TestID("tasks-failed").Text(); got != "1 failed" {
			t.Fatalf("another admin who has not looked sees %q", got)
		}
	})
	t.Run("OKMemberGetsNothing", func(t *testing.T) {
		p := bob.Get("/tasks/indicator")
		wantStatus(t, p, http.StatusOK)
		if strings.TrimSpace(p.Body) != "" {
			t.Fatalf("a member gets the indicator: %q", p.Body)
		}
		if bob.Get("/").TestID("task-indicator").Length() != 0 {
			t.Fatal("a member's header polls the indicator")
		}
	})
	t.Run("OKMemberWhoMayInstall", func(t *testing.T) {
		if err := app.Store.SetPermissions(ctx, "ann", store.Permissions{Install: store.PermEveryone, Debug: store.PermAdmins}); err != nil {
			t.Fatal(err)
		}
		if got := bob.Get("/tasks/indicator").TestID("tasks-failed").Text(); got != "1 failed" {
			t.Fatalf("a member allowed to install sees %q", got)
		}
	})
}

// TestPrivateKeyNotEchoed: a private key pasted as a trusted key is
// refused, and neither kept in the form nor shown back; the name is kept.
func TestPrivateKeyNotEchoed(t *testing.T) {
	app := MustApp(t, deadDaemon)
	app.MustUser(t, "ann", store.RoleOwner)
	b := app.NewBrowser(t)
	b.MustLogin("ann")
	b.Get("/settings")
	priv := string(signature.EncodePrivateKey(MustSigningKey(t, 0)))
	p := b.Post("/settings/keys", url.Values{"name": {"team"}, "pem": {priv}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	body := priv[40:80]
	if strings.Contains(p.Body, body) || strings.Contains(p.Body, "BEGIN RSA PRIVATE KEY") {
		t.Fatal("the private key is in the page")
	}
	if got := p.TestID("error-pem").Text(); !strings.Contains(got, "private key") || !strings.Contains(got, "not shown again") {
		t.Fatalf("pem error %q", got)
	}
	if v := p.Doc.Find(`input[name=name]`).AttrOr("value", ""); v != "team" {
		t.Fatalf("name field = %q, want what was typed", v)
	}
}
