package e2e_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/plugboard/plugboard/daemon"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/manager"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/sdk/devkit"
)

const daemonKey = "e2e-daemon-key"

// MustGotoolsDaemon starts a daemon in the test process with the gotools
// example plugin installed, and returns its URL.
func MustGotoolsDaemon(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	pkg, _, err := devkit.PackDir(ctx, "../../examples/plugins/gotools", pkgfmt.DefaultLimits(), io.Discard)
	if err != nil {
		tb.Fatalf("pack gotools: %v", err)
	}
	d, err := daemon.Start(ctx, daemon.Config{Addr: "127.0.0.1:0", APIKey: daemonKey,
		Manager: manager.Config{DataDir: tb.TempDir(), Limits: pkgfmt.DefaultLimits()}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close(context.Background()) })
	cl := client.New(d.URL(), daemonKey)
	up, err := cl.UploadPackage(ctx, "gotools.difypkg", bytes.NewReader(pkg))
	if err != nil {
		tb.Fatalf("upload gotools: %v", err)
	}
	res, err := cl.Install(ctx, []string{up.UniqueIdentifier}, "package", nil)
	if err == nil && !res.AllInstalled {
		_, err = cl.WaitTask(ctx, res.TaskID)
	}
	if err != nil {
		tb.Fatalf("install gotools: %v", err)
	}
	return d.URL()
}

const e2eSecret = "demo-e2eS3cretKey-99"

func TestCredentials(t *testing.T) {
	skipWithoutChromium(t)
	srv := MustServe(t, WithDaemon(MustGotoolsDaemon(t), daemonKey))
	b := MustBrowser(t, srv)
	b.CreateOwner()

	b.Do("open Credentials", chromedp.Click(tid("nav-credentials")), chromedp.WaitVisible(`[data-provider="plugboard/gotools/gotools"]`))
	b.Shoot("credentials-empty")
	b.Click("manage gotools", "manage-provider", "add-credential")

	addButton := chromedp.CSS(`[data-testid="add-credential"] [data-testid="credential-submit"]`)
	b.Fill(map[string]string{"input-name": "prod", "input-api_key": "nope-wrong-key"})
	submit(b, "add a bad key", addButton, "form-error")
	if got := b.Text("form-error"); !strings.Contains(got, `api_key must start with "demo-"`) {
		t.Fatalf("rejection shows %q, want the plugin's message", got)
	}
	if n := b.Count("credential-row"); n != 0 {
		t.Fatalf("%d credentials after a rejection", n)
	}
	b.Shoot("credential-rejected")

	b.Fill(map[string]string{"input-api_key": e2eSecret})
	submit(b, "add a good key", addButton, "credential-row")
	if got := b.Text("value-api_key"); got != "de****************99" {
		t.Fatalf("listed key %q, want the mask", got)
	}

	submit(b, "test it", tid("test-credential"), "flash-success")
	if st := Eval[string](b, `document.querySelector('[data-testid="test-status"]').dataset.status`); st != "ok" {
		t.Fatalf("test status %q", st)
	}
	b.Shoot("credential-tested")

	submit(b, "edit it", tid("edit-credential"), "edit-credential-page")
	if v := Eval[string](b, `document.querySelector('[data-testid="input-api_key"]').value`); v != "de****************99" {
		t.Fatalf("edit form shows %q, want the mask", v)
	}
	b.Shoot("credential-edit")
	b.Fill(map[string]string{"input-name": "live"})
	submit(b, "save the edit", tid("credential-submit"), "flash-success")
	if got := b.Text("credential-name"); got != "live" {
		t.Fatalf("renamed to %q", got)
	}
	// The plugin accepts the stored key again: the masked re-save kept it.
	submit(b, "test again", tid("test-credential"), "flash-success")
	if html := Eval[string](b, `document.documentElement.outerHTML`); strings.Contains(html, "e2eS3cretKey") {
		t.Fatal("the page contains the secret")
	}
	b.Do("open the audit log from the user menu", chromedp.Click(tid("user-menu-toggle")), chromedp.Click(tid("nav-audit")), chromedp.WaitVisible(tid("audit-log")))
	if n := Eval[int](b, `document.querySelectorAll('[data-testid="audit-entry"][data-action^="credential."]').length`); n != 4 {
		t.Fatalf("%d audit entries, want create, test, update, test", n)
	}
	b.Shoot("audit-log")
}
