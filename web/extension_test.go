package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plugboard/plugboard/app/netguard"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
	"github.com/plugboard/plugboard/web"
	"github.com/plugboard/plugboard/web/guard"
	"golang.org/x/crypto/bcrypt"
)

// readTimeout is the extensions' read timeout in these tests, so the slow
// endpoint fails fast.
const readTimeout = 300 * time.Millisecond

// ExtApp is the admin app with a keyring, extension timeouts for tests and
// an outbound allowlist.
type ExtApp struct {
	*App
	Keys   *secret.Keyring
	DBPath string
	Log    *extLog // everything the app logged
}

// extLog is a log sink (a bytes.Buffer) safe for the server's goroutines.
type extLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *extLog) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *extLog) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// MustExtApp starts the app; allow is the --outbound-allow list.
func MustExtApp(tb testing.TB, allow string) *ExtApp {
	tb.Helper()
	dir := tb.TempDir()
	path := filepath.Join(dir, "plugboard.db")
	db, err := store.Open(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	db.HashCost = bcrypt.MinCost
	keys, err := secret.Open(context.Background(), dir, secret.NewMasterKey(), db)
	if err != nil {
		tb.Fatal(err)
	}
	sessionKeys, err := guard.LoadSessionKeys(filepath.Join(dir, "session-keys"))
	if err != nil {
		tb.Fatal(err)
	}
	logs := &extLog{}
	srv := httptest.NewServer(web.New(web.Config{
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Store:  db, Keys: keys, Daemon: client.New(deadDaemon, "test-key"), DaemonURL: deadDaemon, SessionKeys: sessionKeys,
		OutboundAllow:     netguard.MustParseAllowlist(allow),
		ExtensionTimeouts: netguard.Timeouts{Connect: 2 * time.Second, Read: readTimeout},
	}))
	tb.Cleanup(func() { srv.Close(); db.Close() })
	app := &ExtApp{App: &App{URL: srv.URL, Store: db}, Keys: keys, DBPath: path, Log: logs}
	app.MustUser(tb, "root", store.RoleOwner)
	app.MustUser(tb, "bob", store.RoleMember)
	return app
}

// rawDB returns the bytes of the database's files (main and WAL).
func (a *ExtApp) rawDB(tb testing.TB) []byte {
	tb.Helper()
	var all []byte
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(a.DBPath + suffix)
		if err != nil && !os.IsNotExist(err) {
			tb.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// Endpoint is a test extension endpoint on loopback. Its path picks the
// behaviour: /ok answers pong and echoes other points, /wrong answers the
// wrong pong, /html is not JSON, /500 fails, /slow answers too late.
type Endpoint struct {
	*httptest.Server
	mu    sync.Mutex
	auths []string
	last  map[string]any
}

// MustEndpoint starts an endpoint.
func MustEndpoint(tb testing.TB) *Endpoint {
	tb.Helper()
	ep := &Endpoint{}
	ep.Server = httptest.NewServer(http.HandlerFunc(ep.serve))
	tb.Cleanup(ep.Close)
	return ep
}

func (ep *Endpoint) serve(w http.ResponseWriter, r *http.Request) {
	var req map[string]any
	json.NewDecoder(r.Body).Decode(&req)
	ep.mu.Lock()
	ep.auths = append(ep.auths, r.Header.Get("Authorization"))
	ep.last = req
	ep.mu.Unlock()
	switch r.URL.Path {
	case "/ok":
		if req["point"] == "ping" {
			io.WriteString(w, `{"result":"pong"}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"got_point": req["point"], "got_params": req["params"], "flagged": false})
	case "/wrong":
		io.WriteString(w, `{"result":"pang"}`)
	case "/html":
		io.WriteString(w, "<html>hello</html>")
	case "/500":
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "boom: the extension crashed "+strings.Repeat("x", 300))
	case "/slow":
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}
}

// Auths returns the Authorization headers received so far.
func (ep *Endpoint) Auths() []string {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	return append([]string(nil), ep.auths...)
}

// Last returns the last request body.
func (ep *Endpoint) Last() map[string]any {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	return ep.last
}

// closedPort returns a loopback URL nothing listens on.
func closedPort(tb testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/"
}

// extForm is the add/edit form.
func extForm(name, endpoint, key string) url.Values {
	return url.Values{"name": {name}, "endpoint": {endpoint}, "api_key": {key}}
}

// MustCreate adds an extension through the form and returns it as stored.
func (a *ExtApp) MustCreate(tb testing.TB, b *Browser, name, endpoint, key string) *store.Extension {
	tb.Helper()
	b.Get("/extensions")
	p := b.Post("/extensions", extForm(name, endpoint, key))
	if p.StatusCode != http.StatusSeeOther {
		tb.Fatalf("create %s: status %d: %s %s", name, p.StatusCode, p.TestID("error-endpoint").Text(), p.TestID("form-error").Text())
	}
	return a.MustFind(tb, name)
}

// MustFind returns the stored extension with the name.
func (a *ExtApp) MustFind(tb testing.TB, name string) *store.Extension {
	tb.Helper()
	list, err := a.Store.FindExtensions(context.Background(), a.Keys)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range list {
		if e.Name == name {
			return e
		}
	}
	tb.Fatalf("no extension %s", name)
	return nil
}

// count is how many extensions are stored.
func (a *ExtApp) count(tb testing.TB) int {
	tb.Helper()
	list, err := a.Store.FindExtensions(context.Background(), a.Keys)
	if err != nil {
		tb.Fatal(err)
	}
	return len(list)
}

// storeInput is an extension as the store takes it.
func storeInput(name, endpoint, key string) store.ExtensionInput {
	return store.ExtensionInput{Name: name, Endpoint: endpoint, APIKey: key}
}
