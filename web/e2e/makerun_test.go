package e2e_test

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/sdk/devkit"
)

// MustServeAsMakeRun starts `plugboard serve` the way the README's
// `make run` does: from a directory holding dist/ with every example packed,
// with the default relative --data ./data and --examples ./dist. Only the
// port is chosen freely.
func MustServeAsMakeRun(tb testing.TB) (*Server, []string) {
	tb.Helper()
	root := tb.TempDir()
	dist := filepath.Join(root, "dist")
	if err := os.Mkdir(dist, 0o755); err != nil {
		tb.Fatal(err)
	}
	var ids []string
	sources, _ := filepath.Glob("../../examples/plugins/*")
	for _, src := range sources {
		data, pkg, err := devkit.PackDir(context.Background(), src, pkgfmt.DefaultLimits(), io.Discard)
		if err != nil {
			tb.Fatalf("pack %s: %v", src, err)
		}
		if err := os.WriteFile(filepath.Join(dist, filepath.Base(src)+".difypkg"), data, 0o644); err != nil {
			tb.Fatal(err)
		}
		ids = append(ids, pkg.ID.PluginID())
	}
	return MustServe(tb, InDir(root)), ids
}

// TestMakeRunInstallsEveryExample follows a newcomer: under `make run`'s
// relative data directory every example installs in one click, runs, and
// answers a tool call in the playground.
func TestMakeRunInstallsEveryExample(t *testing.T) {
	skipWithoutChromium(t)
	srv, ids := MustServeAsMakeRun(t)
	if len(ids) < 2 {
		t.Fatalf("examples packed: %v, want the Go and the Python one at least", ids)
	}
	b := MustBrowser(t, srv)
	b.CreateOwner()
	for _, id := range ids {
		b.Open("/", "examples")
		card := `[data-testid="example-card"][data-example="` + filepath.Base(id) + `.difypkg"]`
		b.Do("install "+id, chromedp.Click(card+` [data-testid="example-install"]`), chromedp.WaitVisible(tid("task-progress")))
		b.Do(id+" installed", chromedp.WaitVisible(`[data-testid="task-progress"][data-status]:not([data-status="running"]):not([data-status="pending"])`))
		if st := Eval[string](b, `document.querySelector('[data-testid="task-progress"]').dataset.status`); st != "success" {
			b.Shoot("makerun-failed-" + filepath.Base(id))
			t.Fatalf("installing %s ended %q: %s", id, st, b.Text("task-progress"))
		}
		b.Open("/", "plugins-page")
		b.Do(id+" running", chromedp.WaitVisible(runningCard(id)))
	}
	startRun(b, playStream, map[string]string{"input-text": "relative-data-works", "input-delay_ms": "0"})
	_, final, status := watchUntilEnded(b)
	if status != "done" || !strings.Contains(final, "relative-data-works") {
		t.Fatalf("gotools stream_text under make run: status %q, output %q", status, final)
	}
	t.Run("OKCurlRunsAsCopied", func(t *testing.T) {
		b.Do("open copy as curl", chromedp.Click(`[data-testid="run-curl"] summary`), chromedp.WaitVisible(tid("curl-fill-key")))
		b.Do("put the daemon key in", chromedp.Click(tid("curl-fill-key")),
			chromedp.WaitVisible(`//span[@data-testid="curl-key-status"][contains(., "is in the command")]`))
		command := b.Text("curl-command")
		if strings.Contains(command, "$PLUGBOARD") {
			t.Fatalf("the command still needs a variable filled in:\n%s", command)
		}
		b.Shoot("makerun-curl")
		out, err := exec.Command("sh", "-c", command+" --silent --show-error --fail-with-body").CombinedOutput()
		if err != nil {
			t.Fatalf("the copied command failed: %v\n%s\n%s", err, command, out)
		}
		if !strings.Contains(string(out), "relative-data-works") || strings.Contains(string(out), `"error"`) {
			t.Fatalf("the copied command answered:\n%s", out)
		}
	})
	if _, err := os.Stat(filepath.Join(srv.Data, "plugboard.db")); err != nil {
		t.Fatalf("the relative data directory was not used: %v", err)
	}
}
