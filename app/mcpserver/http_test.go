package mcpserver_test

import (
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/plugboard/plugboard/app/apptest"
	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/app/mcpserver"
	"github.com/plugboard/plugboard/app/netguard"
	"github.com/plugboard/plugboard/daemon"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
)

const bearer = "mcp-http-Sup3rSecretBearer"

type echoIn struct {
	Text string `json:"text" jsonschema:"the text to echo"`
}

// upstream is a Streamable HTTP MCP server (the SDK's handler) on loopback
// that answers only with the bearer token.
func upstream(t *testing.T) *httptest.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "remote", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "Echo over HTTP."},
		func(ctx context.Context, req *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "remote: " + in.Text}}}, nil, nil
		})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+bearer {
			http.Error(w, "bad token", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

type env struct {
	svc     *mcpserver.Service
	invoke  *invoke.Service
	daemon  *client.Client
	db      *store.DB
	admin   *store.User
	dataDir string
	guard   *netguard.Guard
}

func mustEnv(t *testing.T) *env {
	db := apptest.MustStore(t)
	keys, err := secret.Open(context.Background(), t.TempDir(), "", db)
	if err != nil {
		t.Fatal(err)
	}
	guard := netguard.New(netguard.MustParseAllowlist("127.0.0.1"))
	e := &env{db: db, guard: guard, admin: apptest.MustUser(t, db, "root", store.RoleAdmin)}
	relay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := strings.CutPrefix(r.URL.Path, mcpserver.RelayPrefix)
		if !ok {
			http.NotFound(w, r)
			return
		}
		if id, ok := strings.CutSuffix(id, "/env"); ok {
			e.svc.ServeEnv(w, r, id)
			return
		}
		e.svc.ServeRelay(w, r, id)
	}))
	t.Cleanup(relay.Close)
	e.daemon = apptest.MustDaemonWith(t, func(c *daemon.Config) {
		c.PlatformURL, c.PlatformKey = relay.URL, "platform-key"
		e.dataDir = c.Manager.DataDir
	})
	e.svc = mcpserver.New(mcpserver.Config{Store: db, Keys: keys, Guard: guard, Daemon: e.daemon})
	e.invoke = invoke.New(invoke.Config{Store: db, Daemon: e.daemon, Keys: keys})
	t.Cleanup(func() { e.invoke.Close() })
	return e
}

// An HTTP MCP server through the relay and the guard, with its bearer
// token: its tools run through app/invoke, the token in no log or file of
// the daemon's; refusals leave nothing behind.
func TestHTTPServer(t *testing.T) {
	up := upstream(t) // first, so that it closes last
	e := mustEnv(t)
	ctx := context.Background()

	// A wrong token: the server refuses, nothing is kept.
	_, err := e.svc.Add(ctx, e.admin, mcpserver.Form{Name: "remote", URL: up.URL, Token: "wrong"})
	if err == nil || !strings.Contains(err.Error(), "did not complete its initialization") {
		t.Fatalf("wrong token: %v", err)
	}
	// Loopback not allowlisted: the guard refuses, nothing is kept.
	e.guard.SetAllowlist(netguard.MustParseAllowlist(""))
	_, err = e.svc.Add(ctx, e.admin, mcpserver.Form{Name: "remote", URL: up.URL, Token: bearer})
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("guarded: %v", err)
	}
	if list, _ := e.daemon.List(ctx, 1, 100); list.Total != 0 {
		t.Fatalf("%d installations after refusals", list.Total)
	}
	// Bad input is named by its field.
	if _, err := e.svc.Add(ctx, e.admin, mcpserver.Form{Name: "remote", URL: "ftp://x"}); err == nil || !strings.Contains(err.Error(), "scheme") {
		t.Fatalf("ftp: %v", err)
	}
	if _, err := e.svc.Add(ctx, e.admin, mcpserver.Form{Name: "remote", URL: up.URL, Headers: "no colon"}); err == nil {
		t.Fatal("a header without a colon was taken")
	}
	member := apptest.MustUser(t, e.db, "ann", store.RoleMember)
	if _, err := e.svc.Add(ctx, member, mcpserver.Form{Name: "remote", URL: up.URL}); err == nil {
		t.Fatal("a member added an MCP server")
	}

	e.guard.SetAllowlist(netguard.MustParseAllowlist("127.0.0.1"))
	inst, err := e.svc.Add(ctx, e.admin, mcpserver.Form{Name: "remote", URL: up.URL, Token: bearer, Headers: "X-Team: tools"})
	if err != nil {
		t.Fatal(err)
	}
	if inst.PluginID != "mcp/remote" || len(inst.Declaration.Tool.Tools) != 1 {
		t.Fatalf("installation %s with %d tools", inst.PluginID, len(inst.Declaration.Tool.Tools))
	}
	var got []string
	r, err := e.invoke.Call(ctx, invoke.Request{Caller: invoke.Caller{UserID: e.admin.ID, Username: "root"}, PluginID: "mcp/remote",
		Provider: "remote", Tool: "echo", Params: map[string]any{"text": "over http"}}, func(m *client.Message) { got = append(got, m.Text) })
	if err != nil || r.Status != store.RunDone || strings.Join(got, "|") != "remote: over http" {
		t.Fatalf("run %+v %v, messages %q", r, err, got)
	}

	logs, err := e.daemon.PluginLogs(ctx, "mcp/remote", 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range logs {
		if strings.Contains(l.Message, bearer) {
			t.Fatalf("the daemon's log holds the bearer: %q", l.Message)
		}
	}
	_ = filepath.WalkDir(e.dataDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if data, err := os.ReadFile(path); err == nil && strings.Contains(string(data), bearer) {
				t.Errorf("%s holds the bearer", path)
			}
		}
		return nil
	})
	entries, _, err := e.db.FindAuditEntries(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range entries {
		if strings.Contains(a.Detail, bearer) {
			t.Fatalf("audit holds the bearer: %+v", a)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// waitRunning waits until the plugin runs with at least restarts restarts.
func waitRunning(t *testing.T, cl *client.Client, pluginID string, restarts int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if st, err := cl.PluginStatus(context.Background(), pluginID); err == nil && st.State == "running" && st.Restarts >= restarts {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s not running after %d restarts", pluginID, restarts)
}
