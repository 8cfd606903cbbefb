package mcpserver_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/app/apptest"
	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/app/mcpserver"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
)

// A stdio server's environment stays in the app, sealed: the daemon's
// bridge fetches it at each start (the server sees it, after a restart
// too), and no file of the daemon's holds it.
func TestStdioServerEnvironment(t *testing.T) {
	const secretValue = "mcp-env-Sup3rSecretValue"
	e := mustEnv(t)
	bin := apptest.MustBuildMCPEcho(t)
	ctx := context.Background()

	_, err := e.svc.AddStdio(ctx, e.admin, mcpserver.StdioForm{Name: "local", Command: bin, Env: "BAD NAME=x"})
	if err == nil || !strings.Contains(err.Error(), "NAME=value") || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("bad env: %v", err)
	}
	// A line without "=" may be a pasted secret: the refusal names its
	// number and never says it back.
	_, err = e.svc.AddStdio(ctx, e.admin, mcpserver.StdioForm{Name: "local", Command: bin, Env: "OK=1\n" + secretValue})
	if err == nil || !strings.Contains(err.Error(), "line 2") || strings.Contains(err.Error(), secretValue) {
		t.Fatalf("a secret pasted without a name: %v", err)
	}
	_, err = e.svc.AddStdio(ctx, e.admin, mcpserver.StdioForm{Name: "local", Command: "/no/such/server", Env: "ECHO_TOKEN=" + secretValue})
	if err == nil || !strings.Contains(err.Error(), "not an executable") {
		t.Fatalf("missing command: %v", err)
	}
	// The refused one left nothing: the same name is free.
	inst, err := e.svc.AddStdio(ctx, e.admin, mcpserver.StdioForm{Name: "local", Command: bin, Args: "--ignored", Env: "ECHO_TOKEN=" + secretValue + "\nECHO_MODE=test"})
	if err != nil {
		t.Fatal(err)
	}
	if inst.PluginID != "mcp/local" {
		t.Fatalf("installation %s", inst.PluginID)
	}
	getenv := func() string {
		var out strings.Builder
		r, err := e.invoke.Call(ctx, invoke.Request{Caller: invoke.Caller{UserID: e.admin.ID, Username: "root"}, PluginID: "mcp/local",
			Provider: "local", Tool: "getenv", Params: map[string]any{"name": "ECHO_TOKEN"}}, func(m *client.Message) { out.WriteString(m.Text) })
		if err != nil || r.Status != store.RunDone {
			t.Fatalf("getenv run %+v %v", r, err)
		}
		return out.String()
	}
	want := "ECHO_TOKEN set=true length=" + itoa(len(secretValue))
	if got := getenv(); got != want {
		t.Fatalf("getenv = %q, want %q", got, want)
	}
	// After a crash the restarted server gets it again.
	if r, _ := e.invoke.Call(ctx, invoke.Request{Caller: invoke.Caller{UserID: e.admin.ID, Username: "root"}, PluginID: "mcp/local",
		Provider: "local", Tool: "crash"}, nil); r == nil || r.Status != store.RunFailed {
		t.Fatalf("crash run %+v", r)
	}
	waitRunning(t, e.daemon, "mcp/local", 1)
	if got := getenv(); got != want {
		t.Fatalf("after the restart getenv = %q", got)
	}
	_ = filepath.WalkDir(e.dataDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if data, err := os.ReadFile(path); err == nil && strings.Contains(string(data), secretValue) {
				t.Errorf("%s holds the environment's value", path)
			}
		}
		return nil
	})
	logs, _ := e.daemon.PluginLogs(ctx, "mcp/local", 1000)
	for _, l := range logs {
		if strings.Contains(l.Message, secretValue) {
			t.Fatalf("log holds the value: %q", l.Message)
		}
	}
}
