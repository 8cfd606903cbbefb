// Package innertest assembles, for tests, what `plugboard serve` runs for
// plugins' calls back, in-process: a real daemon forwarding calls back to
// the app's inner API (web/inner) on loopback HTTP, and the app's services
// (app.New) answering them.
package innertest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard/app"
	"github.com/plugboard/plugboard/app/apptest"
	"github.com/plugboard/plugboard/app/models"
	"github.com/plugboard/plugboard/daemon"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
	"github.com/plugboard/plugboard/web/inner"
)

// Stack is the app and its daemon, calling back into it.
type Stack struct {
	App    *app.App
	Store  *store.DB
	Daemon *client.Client
	Keys   *secret.Keyring
	// URL is the inner API's address (the app's, as plugins reach it).
	URL string
	// User is alice, a member.
	User *store.User
}

// DemoChat is the default LLM of a Stack.
var DemoChat = models.ModelRef{PluginID: "plugboard/demo_model", Provider: "demo_model", ModelType: "llm", Model: "demo-chat"}

// MustStack starts a Stack with demo_model (the default LLM), gotools,
// the callbacks example and its variant without permissions
// (plugboard/callbacks_denied) installed. It stops at the test's end.
func MustStack(tb testing.TB) *Stack {
	tb.Helper()
	if testing.Short() {
		tb.Skip("runs the example plugins under a daemon calling back")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	const key = "inner-key-for-tests"
	cl := apptest.MustDaemonWith(tb, func(c *daemon.Config) { c.PlatformURL, c.PlatformKey = url, key })
	for _, name := range []string{"demo_model", "gotools", "callbacks"} {
		apptest.MustInstallExample(tb, cl, name)
	}
	apptest.MustInstallVariant(tb, cl, "callbacks", WithoutPermissions)
	db := apptest.MustStore(tb)
	keys, err := secret.Open(context.Background(), tb.TempDir(), "", db)
	if err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := app.New(app.Config{Store: db, Daemon: cl, Keys: keys, Logger: log})
	e := echo.New()
	inner.New(key, a.Callback, log).Routes(e)
	hs := &http.Server{Handler: e}
	go hs.Serve(ln)
	tb.Cleanup(func() { a.Close(); hs.Close() })
	if err := a.Models.SetDefault(context.Background(), "test", DemoChat); err != nil {
		tb.Fatal(err)
	}
	return &Stack{App: a, Store: db, Daemon: cl, Keys: keys, URL: url, User: apptest.MustUser(tb, db, "alice", store.RoleMember)}
}

// WithoutPermissions is the callbacks manifest renamed callbacks_denied,
// its resource.permission removed.
func WithoutPermissions(m string) string {
	m = strings.Replace(m, "name: callbacks", "name: callbacks_denied", 1)
	return regexp.MustCompile(`(?s)\n  permission:\n.*?\nplugins:`).ReplaceAllString(m, "\nplugins:")
}
