package e2e_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/app/apptest"
	"github.com/plugboard/plugboard/daemon"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/manager"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

// freeAddr is a loopback address no one listens on now.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestCallbacksStandalone runs a daemon on its own, pointed at the app
// with --platform-url/--platform-key as an admin would, and `plugboard
// serve --daemon-url … --inner-api-key`: a plugin's upload call back
// reaches the app's inner API and the file is served by the app. With the
// app holding another key the same call back is refused.
func TestCallbacksStandalone(t *testing.T) {
	const innerKey = "e2e-inner-key"
	addr := freeAddr(t)
	ctx := context.Background()
	d, err := daemon.Start(ctx, daemon.Config{Addr: "127.0.0.1:0", APIKey: daemonKey,
		PlatformURL: "http://" + addr, PlatformKey: innerKey,
		Manager: manager.Config{DataDir: t.TempDir(), Limits: pkgfmt.DefaultLimits()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close(context.Background()) })
	cl := client.New(d.URL(), daemonKey)
	apptest.MustInstallExample(t, cl, "callbacks")
	save := func() (string, error) {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		st, err := cl.InvokeTool(ctx, "plugboard/callbacks", apispec.InvokeToolData{Provider: "callbacks", Tool: "save_file",
			ToolParameters: map[string]any{"text": "standalone", "filename": "s.txt"}}, "admin")
		if err != nil {
			return "", err
		}
		defer st.Close()
		var link string
		for {
			m, err := st.Next()
			if err == io.EOF {
				return link, nil
			}
			if err != nil {
				return link, err
			}
			if m.Link != "" {
				link = m.Link
			}
		}
	}

	t.Run("OKSameKey", func(t *testing.T) {
		srv := MustServe(t, WithDaemon(d.URL(), daemonKey), withArgs("--addr", addr, "--inner-api-key", innerKey))
		link, err := save()
		if err != nil || !strings.HasPrefix(link, srv.URL+"/files/plugin/") {
			t.Fatalf("link %q, err %v", link, err)
		}
		if got := httpGet(t, link); got != "standalone" {
			t.Fatalf("the file is %q", got)
		}
	})
	t.Run("ErrOtherKey", func(t *testing.T) {
		MustServe(t, WithDaemon(d.URL(), daemonKey), withArgs("--addr", addr, "--inner-api-key", "not-the-daemons"))
		if _, err := save(); err == nil || !strings.Contains(err.Error(), "The inner API key is missing or wrong") {
			t.Fatalf("err %v, want the inner API's refusal of the key", err)
		}
	})
}

// withArgs adds serve arguments.
func withArgs(args ...string) ServeOption {
	return func(c *serveConfig) { c.args = append(c.args, args...) }
}

// httpGet returns the body of a 200 answer to GET url.
func httpGet(tb testing.TB, url string) string {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}
