// Package apptest sets up the real parts the application services' tests
// run against: a daemon on loopback, a fresh store, packed example
// plugins and a marketplace folder of them. It is imported by tests only.
package apptest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plugboard/plugboard/app/marketplace"
	"github.com/plugboard/plugboard/daemon"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/manager"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/sdk/devkit"
	"github.com/plugboard/plugboard/store"
)

// Root is the module's root directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// MustDaemon starts a real daemon on loopback with a fresh data directory
// and returns a client of it.
func MustDaemon(tb testing.TB) *client.Client {
	tb.Helper()
	return MustDaemonWith(tb, nil)
}

// MustDaemonWith is MustDaemon with changes to the daemon's configuration
// (nil: none), such as the platform it forwards plugins' calls back to.
func MustDaemonWith(tb testing.TB, configure func(*daemon.Config)) *client.Client {
	tb.Helper()
	cl, _ := mustDaemon(tb, configure)
	return cl
}

// MustDaemonBoth is MustDaemon returning two clients of the daemon: one over
// HTTP and one in process, as serve's app reaches its embedded daemon
// (client.InProcess with its handler and its Direct dispatch).
func MustDaemonBoth(tb testing.TB) (overHTTP, inProcess *client.Client) {
	tb.Helper()
	cl, d := mustDaemon(tb, nil)
	return cl, client.New(d.URL(), "test-key", client.InProcess(d.Handler(), d.Direct()))
}

func mustDaemon(tb testing.TB, configure func(*daemon.Config)) (*client.Client, *daemon.Daemon) {
	tb.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := daemon.Config{
		Addr: "127.0.0.1:0", APIKey: "test-key", Logger: log,
		Manager: manager.Config{DataDir: tb.TempDir(), Limits: pkgfmt.DefaultLimits()},
	}
	if configure != nil {
		configure(&cfg)
	}
	d, err := daemon.Start(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		d.Close(ctx)
	})
	return client.New(d.URL(), "test-key"), d
}

// MustStore opens a fresh store in a temporary directory.
func MustStore(tb testing.TB) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), filepath.Join(tb.TempDir(), "plugboard.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// MustUser adds a user with the role to db.
func MustUser(tb testing.TB, db *store.DB, name string, role store.Role) *store.User {
	tb.Helper()
	db.HashCost = 4 // bcrypt.MinCost
	u, err := db.CreateUser(context.Background(), store.NewUser{Username: name, Password: "password-" + name, Role: role})
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// MustPytools packs the Python example plugin.
func MustPytools(tb testing.TB) []byte {
	tb.Helper()
	data, _, err := pkgfmt.Pack(os.DirFS(filepath.Join(Root(), "examples", "plugins", "pytools")), pkgfmt.DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// MustMarketFolder writes pytools in each version to a new folder, for
// marketplace.NewServer (or an examples directory).
func MustMarketFolder(tb testing.TB, versions ...string) string {
	tb.Helper()
	dir := tb.TempDir()
	for _, v := range versions {
		data, err := marketplace.PackVersion(filepath.Join(Root(), "examples", "plugins", "pytools"), v)
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "pytools-"+v+".difypkg"), data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// MustMarketInstall installs pytools at version from the marketplace
// folder through the daemon client, recording source marketplace, and
// waits for the task.
func MustMarketInstall(tb testing.TB, cl *client.Client, folder, version string) {
	tb.Helper()
	ctx := context.Background()
	data, err := os.ReadFile(filepath.Join(folder, "pytools-"+version+".difypkg"))
	if err != nil {
		tb.Fatal(err)
	}
	up, err := cl.UploadPackage(ctx, "p.difypkg", bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	res, err := cl.Install(ctx, []string{up.UniqueIdentifier}, "marketplace", []map[string]any{{"plugin_unique_identifier": up.UniqueIdentifier}})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := cl.WaitTask(ctx, res.TaskID); err != nil {
		tb.Fatal(err)
	}
}

// InstalledVersion is the version of the one installed plugin.
func InstalledVersion(tb testing.TB, cl *client.Client) string {
	tb.Helper()
	page, err := cl.List(context.Background(), 1, 10)
	if err != nil || len(page.List) != 1 {
		tb.Fatalf("list = %+v, %v", page, err)
	}
	return page.List[0].Version
}

// examplePackages holds each example plugin packed once per test binary.
var examplePackages sync.Map // name → func() ([]byte, error)

// MustExamplePackage packs the example plugin examples/plugins/<name> as
// `make` does (building a Go plugin first), once per test binary.
func MustExamplePackage(tb testing.TB, name string) []byte {
	tb.Helper()
	f, _ := examplePackages.LoadOrStore(name, sync.OnceValues(func() ([]byte, error) {
		data, _, err := devkit.PackDir(context.Background(), filepath.Join(Root(), "examples", "plugins", name), pkgfmt.DefaultLimits(), io.Discard)
		return data, err
	}))
	data, err := f.(func() ([]byte, error))()
	if err != nil {
		tb.Fatalf("pack %s: %v", name, err)
	}
	return data
}

// MustInstallExample packs and installs the example plugin
// examples/plugins/<name> through the daemon client and waits until it runs.
func MustInstallExample(tb testing.TB, cl *client.Client, name string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	up, err := cl.UploadPackage(ctx, name+".difypkg", bytes.NewReader(MustExamplePackage(tb, name)))
	if err != nil {
		tb.Fatal(err)
	}
	res, err := cl.Install(ctx, []string{up.UniqueIdentifier}, "package", nil)
	if err == nil && !res.AllInstalled {
		_, err = cl.WaitTask(ctx, res.TaskID)
	}
	if err != nil {
		tb.Fatalf("install %s: %v", name, err)
	}
}

// StandInKey is the API key OpenAIStandIn accepts.
const StandInKey = "sk-standin-Sup3rSecret"

// OpenAIStandIn serves the part of OpenAI's API the openai_compatible
// example calls, under /v1: chat completions streamed in three pieces
// ("Hel", "lo", " world") then usage, and embeddings. A request without
// the bearer StandInKey is refused with OpenAI's 401 and message.
func OpenAIStandIn(tb testing.TB) *httptest.Server {
	tb.Helper()
	mux := http.NewServeMux()
	authorized := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("Authorization") != "Bearer "+StandInKey {
			http.Error(w, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}`, http.StatusUnauthorized)
			return false
		}
		return true
	}
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		if !authorized(w, r) {
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		send := func(chunk string) {
			fmt.Fprintf(w, "data: %s\n\n", chunk)
			w.(http.Flusher).Flush()
		}
		for _, piece := range []string{"Hel", "lo", " world"} {
			send(`{"choices":[{"index":0,"delta":{"content":"` + piece + `"}}]}`)
		}
		send(`{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`)
		send(`{"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":3,"total_tokens":14}}`)
		send("[DONE]")
	})
	mux.HandleFunc("POST /v1/embeddings", func(w http.ResponseWriter, r *http.Request) {
		if !authorized(w, r) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"data":[{"index":0,"embedding":[0.6,0.8]}],"usage":{"prompt_tokens":1,"total_tokens":1}}`)
	})
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return srv
}

// MustInstallVariant packs the example plugin examples/plugins/<name> with
// its manifest changed by edit (a test fixture: another name, other
// permissions …) and installs it through the daemon client.
func MustInstallVariant(tb testing.TB, cl *client.Client, name string, edit func(manifest string) string) {
	tb.Helper()
	dir := tb.TempDir()
	src := filepath.Join(Root(), "examples", "plugins", name)
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		tb.Fatal(err)
	}
	m, err := os.ReadFile(filepath.Join(dir, "manifest.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.yaml"), []byte(edit(string(m))), 0o644); err != nil {
		tb.Fatal(err)
	}
	mustInstallFS(tb, cl, os.DirFS(dir), name+"-variant")
}

// MustInstallDir packs the plugin folder dir (relative to the module's
// root; a plugin needing no build, such as daemon/api/testdata/pymodel)
// and installs it through the daemon client.
func MustInstallDir(tb testing.TB, cl *client.Client, dir string) {
	tb.Helper()
	mustInstallFS(tb, cl, os.DirFS(filepath.Join(Root(), dir)), filepath.Base(dir))
}

// mustInstallFS packs a plugin folder and installs it, waiting for it.
func mustInstallFS(tb testing.TB, cl *client.Client, fsys fs.FS, name string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	data, _, err := pkgfmt.Pack(fsys, pkgfmt.DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	up, err := cl.UploadPackage(ctx, name+".difypkg", bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	res, err := cl.Install(ctx, []string{up.UniqueIdentifier}, "package", nil)
	if err == nil && !res.AllInstalled {
		_, err = cl.WaitTask(ctx, res.TaskID)
	}
	if err != nil {
		tb.Fatalf("install %s: %v", name, err)
	}
}

// CancelledSessions counts the plugin's log lines saying it cancelled a
// session (the last 500 lines).
func CancelledSessions(tb testing.TB, cl *client.Client, pluginID string) int {
	tb.Helper()
	logs, err := cl.PluginLogs(context.Background(), pluginID, 500)
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for _, l := range logs {
		if strings.Contains(l.Message, "cancelled session") {
			n++
		}
	}
	return n
}
