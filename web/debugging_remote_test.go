package web_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/plugboard/plugboard/daemon"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/manager"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/store"
)

// MustRemoteGotools starts a daemon with remote debugging and connects the
// example Go plugin to it in remote mode (built with go build); it returns
// the daemon's URL once the plugin is listed.
func MustRemoteGotools(tb testing.TB) string {
	tb.Helper()
	d, err := daemon.Start(context.Background(), daemon.Config{
		Addr: "127.0.0.1:0", DebugAddr: "127.0.0.1:0", APIKey: "test-key",
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Manager: manager.Config{DataDir: tb.TempDir(), Limits: pkgfmt.DefaultLimits()},
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		d.Close(ctx)
	})
	cl := client.New(d.URL(), "test-key")
	key, err := cl.DebuggingKey(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	src, _ := filepath.Abs("../examples/plugins/gotools")
	bin := filepath.Join(tb.TempDir(), "gotools")
	if out, err := exec.Command("go", "build", "-o", bin, src).CombinedOutput(); err != nil {
		tb.Fatalf("build gotools: %v\n%s", err, out)
	}
	host, port, _ := net.SplitHostPort(d.DebugAddr())
	cmd := exec.Command(bin)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "INSTALL_METHOD=remote", "REMOTE_INSTALL_HOST="+host, "REMOTE_INSTALL_PORT="+port, "REMOTE_INSTALL_KEY="+key)
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		page, err := cl.List(context.Background(), 1, 10)
		if err == nil && page.Total == 1 {
			return d.URL()
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the remote plugin never appeared: %+v %v", page, err)
		}
	}
}

func TestRemotePluginInApp(t *testing.T) {
	app := MustApp(t, MustRemoteGotools(t))
	app.MustUser(t, "ada", store.RoleAdmin)
	b := app.NewBrowser(t)
	b.MustLogin("ada")
	t.Run("OK", func(t *testing.T) {
		card := b.Get("/").Doc.Find(`[data-testid="plugin-card"][data-plugin-id="plugboard/gotools"]`)
		if card.Length() != 1 || card.Find(`[data-testid="plugin-source"]`).Text() != "Debugging" {
			t.Fatalf("plugins page: %d gotools cards, source %q; want one Debugging card", card.Length(), card.Find(`[data-testid="plugin-source"]`).Text())
		}
		var picks []string
		b.Get("/playground").TestID("pick").Find("option").Each(func(_ int, o *goquery.Selection) {
			picks = append(picks, o.AttrOr("value", ""))
		})
		if !strings.Contains(strings.Join(picks, " "), "stream_text") {
			t.Fatalf("playground tools %q do not offer the remote plugin's", picks)
		}
		if got := b.Get("/debugging").TestID("debugging-plugin").Text(); !strings.Contains(got, "plugboard/gotools") {
			t.Fatalf("connected list %q", got)
		}
	})
}
