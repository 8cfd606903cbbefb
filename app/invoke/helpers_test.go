package invoke_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/daemon"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/manager"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/sdk/devkit"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
)

// gotoolsPkg is the gotools example package, packed once per test binary.
var gotoolsPkg = sync.OnceValues(func() ([]byte, error) {
	data, _, err := devkit.PackDir(context.Background(), "../../examples/plugins/gotools", pkgfmt.DefaultLimits(), io.Discard)
	return data, err
})

// Env is the service on a fresh database, with a real daemon running the
// gotools example plugin.
type Env struct {
	Svc   *invoke.Service
	Store *store.DB
	Creds *store.Credentials
	// Daemon is the client of the test's daemon.
	Daemon *client.Client
}

// MustEnv starts it all; it stops at the test's end, the service first.
func MustEnv(tb testing.TB) *Env {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := daemon.Start(ctx, daemon.Config{Addr: "127.0.0.1:0", APIKey: "test-key", Logger: logger,
		Manager: manager.Config{DataDir: filepath.Join(dir, "daemon"), Limits: pkgfmt.DefaultLimits(), Logger: logger}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close(context.Background()) })
	cl := client.New(d.URL(), "test-key")
	mustInstall(tb, cl)
	db, err := store.Open(ctx, filepath.Join(dir, "plugboard.db"))
	if err != nil {
		tb.Fatal(err)
	}
	keys, err := secret.Open(ctx, dir, "", db)
	if err != nil {
		tb.Fatal(err)
	}
	svc := invoke.New(invoke.Config{Store: db, Daemon: cl, Keys: keys, Logger: logger})
	tb.Cleanup(func() { svc.Close(); db.Close() })
	return &Env{Svc: svc, Store: db, Creds: db.Credentials(keys), Daemon: cl}
}

// mustInstall uploads and installs gotools and waits for it.
func mustInstall(tb testing.TB, cl *client.Client) {
	tb.Helper()
	pkg, err := gotoolsPkg()
	if err != nil {
		tb.Fatalf("pack gotools: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	up, err := cl.UploadPackage(ctx, "gotools.difypkg", bytes.NewReader(pkg))
	if err != nil {
		tb.Fatalf("upload: %v", err)
	}
	res, err := cl.Install(ctx, []string{up.UniqueIdentifier}, "package", nil)
	if err != nil {
		tb.Fatalf("install: %v", err)
	}
	if !res.AllInstalled {
		if _, err := cl.WaitTask(ctx, res.TaskID); err != nil {
			tb.Fatalf("install task: %v", err)
		}
	}
}

// MustCredential stores a gotools credential (the default, as the first
// one) or fails the test.
func (e *Env) MustCredential(tb testing.TB, pluginID, provider, key string) *store.Credential {
	tb.Helper()
	c, err := e.Creds.CreateCredential(context.Background(), "test", store.CredentialInput{PluginID: pluginID,
		Provider: provider, Name: "key " + key, Secrets: map[string]string{"api_key": key}})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// gotools is a request for a gotools tool by alice.
func gotools(tool string, params map[string]any) invoke.Request {
	return invoke.Request{Caller: invoke.Caller{UserID: 1, Username: "alice", BaseURL: "http://127.0.0.1:1"},
		PluginID: "plugboard/gotools", Provider: "gotools", Tool: tool, Params: params}
}

// mustEvents returns a run's stored events.
func (e *Env) mustEvents(tb testing.TB, id string) []store.RunEvent {
	tb.Helper()
	evs, err := e.Store.RunEvents(context.Background(), id, 0)
	if err != nil {
		tb.Fatal(err)
	}
	return evs
}
