package e2e_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// MustRemoteGotools builds the example Go plugin and starts it in remote
// mode against host:port with the debug key; it is killed at the test's end.
func MustRemoteGotools(tb testing.TB, host, port, key string) *exec.Cmd {
	tb.Helper()
	src, _ := filepath.Abs("../../examples/plugins/gotools")
	bin := filepath.Join(tb.TempDir(), "gotools")
	if out, err := exec.Command("go", "build", "-o", bin, src).CombinedOutput(); err != nil {
		tb.Fatalf("build gotools: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "INSTALL_METHOD=remote", "REMOTE_INSTALL_HOST="+host,
		"REMOTE_INSTALL_PORT="+port, "REMOTE_INSTALL_KEY="+key)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

const remoteCard = `[data-testid="plugin-card"][data-plugin-id="plugboard/gotools"]`

// reloadUntil reloads the Plugins page until the number of gotools cards is want.
func reloadUntil(b *Browser, want int) {
	b.tb.Helper()
	for range 300 {
		b.Open("/", "plugins-page")
		if Eval[int](b, `document.querySelectorAll('`+remoteCard+`').length`) == want {
			return
		}
		time.Sleep(100 * time.Millisecond) // a polling interval, not a timing assertion
	}
	b.tb.Fatalf("the Plugins page never showed %d gotools cards", want)
}

// TestRemoteDebugging reads the connection details from the Debugging page,
// connects the example Go plugin with them, sees its "Debugging" card, runs
// a tool of it in the playground, and sees the card go when it stops.
func TestRemoteDebugging(t *testing.T) {
	skipWithoutChromium(t)
	srv := MustServe(t)
	b := MustBrowser(t, srv)
	b.CreateOwner()

	b.Do("open debugging", chromedp.Click(tid("nav-debugging")), chromedp.WaitVisible(tid("debugging-connection")))
	host, port, masked := b.Text("debug-host"), b.Text("debug-port"), b.Text("debug-key")
	key := Eval[string](b, `fetch("/debugging/key").then(r => r.text())`)
	if len(key) < 8 || !strings.HasSuffix(masked, key[len(key)-4:]) || strings.Contains(masked, key) {
		t.Fatalf("masked key %q for key %q", masked, key)
	}
	if b.Count("debug-key-copy") != 1 || b.Count("debugging-none") != 1 {
		t.Fatal("no copy button, or a plugin is listed before any connected")
	}
	b.Shoot("debugging")

	plugin := MustRemoteGotools(t, host, port, key)
	reloadUntil(b, 1)
	if got := Eval[string](b, `document.querySelector('`+remoteCard+` [data-testid="plugin-source"]').textContent.trim()`); got != "Debugging" {
		t.Fatalf("card source %q, want Debugging", got)
	}
	b.Shoot("debugging-card")

	startRun(b, playStream, map[string]string{"input-text": "hello from my laptop", "input-delay_ms": "1"})
	if _, final, status := watchUntilEnded(b); status != "done" || strings.TrimSpace(final) != "hello from my laptop" {
		t.Fatalf("run of the remote plugin ended %s with %q", status, final)
	}

	plugin.Process.Kill()
	plugin.Wait()
	reloadUntil(b, 0)
}
