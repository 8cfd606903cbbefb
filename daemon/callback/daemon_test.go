package callback_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/daemon"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/innerapi"
	"github.com/plugboard/plugboard/daemon/manager"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/daemon/state"
	"github.com/plugboard/plugboard/sdk/devkit"
)

// TestThroughTheDaemon installs a Go SDK plugin (testdata/recall) in a
// real daemon pointed at the stand-in inner API, invokes its tool through
// the HTTP API at a call depth, and checks the calls back end to end: the
// depth and plugin headers, the tenant, the call back events in the stream,
// and that uninstalling removes the plugin's storage.
func TestThroughTheDaemon(t *testing.T) {
	if testing.Short() || goruntime.GOARCH != "amd64" {
		t.Skip("builds the test plugin for amd64 and runs it under a daemon")
	}
	inner := newInnerStandIn(t)
	data := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := daemon.Start(ctx, daemon.Config{Addr: "127.0.0.1:0", APIKey: "k", Logger: log,
		PlatformURL: inner.srv.URL, PlatformKey: innerKey,
		Manager: manager.Config{DataDir: data, Limits: pkgfmt.DefaultLimits(), Logger: log}})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	stop := func() {
		if !closed {
			closed = true
			d.Close(context.Background())
		}
	}
	t.Cleanup(stop)
	c := client.New(d.URL(), "k", client.WithTenant("ws1"))
	pkg, _, err := devkit.PackDir(ctx, "testdata/recall", pkgfmt.DefaultLimits(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	up, err := c.UploadPackage(ctx, "recall.difypkg", bytes.NewReader(pkg))
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Install(ctx, []string{up.UniqueIdentifier}, "package", nil)
	if err == nil && !res.AllInstalled {
		_, err = c.WaitTask(ctx, res.TaskID)
	}
	if err != nil {
		t.Fatal(err)
	}

	stream, err := c.InvokeTool(client.WithCallBackEvents(client.WithCallDepth(ctx, 2)), "acme/recall",
		apispec.InvokeToolData{Provider: "recall", Tool: "remember", ToolParameters: map[string]any{"value": "blue"}}, "u7")
	if err != nil {
		t.Fatal(err)
	}
	var texts, events []string
	for {
		m, err := stream.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.Type == client.MessageCallBack {
			events = append(events, m.CallBack.Type+" "+m.CallBack.Outcome)
			continue
		}
		texts = append(texts, m.Text)
	}
	stream.Close()
	if len(texts) != 1 || texts[0] != "stored blue; the LLM said Hello" {
		t.Fatalf("tool output %q", texts)
	}
	if got := strings.Join(events, ", "); got != "storage ok, storage ok, llm ok" {
		t.Fatalf("call back events %q", got)
	}
	reqs := inner.requests()
	if len(reqs) != 1 || reqs[0].Path != innerapi.Prefix+innerapi.PathLLM {
		t.Fatalf("platform got %+v", reqs)
	}
	r := reqs[0]
	if r.Header.Get(innerapi.HeaderCallDepth) != "3" || r.Header.Get(innerapi.HeaderPlugin) != "acme/recall" ||
		r.Body["tenant_id"] != "ws1" || r.Body["user_id"] != "u7" {
		t.Fatalf("llm request headers %v body %v", r.Header, r.Body)
	}
	if logs, err := c.PluginLogs(ctx, "acme/recall", 100); err != nil || !logsHave(logs, "call back llm answered in") {
		t.Fatalf("plugin log %v (%v) lacks the call back", logs, err)
	}

	if n := callBackCount(t, d, "storage", "ok"); n != 2 {
		t.Errorf("metrics count %d storage calls back, want 2", n)
	}
	if n := callBackCount(t, d, "llm", "ok"); n != 1 {
		t.Errorf("metrics count %d llm calls back, want 1", n)
	}

	list, err := c.List(ctx, 1, 10)
	if err != nil || len(list.List) != 1 {
		t.Fatalf("installations %+v, %v", list, err)
	}
	if err := c.Uninstall(ctx, list.List[0].InstallationID); err != nil {
		t.Fatal(err)
	}
	stop()
	db, err := state.Open(ctx, filepath.Join(data, "daemon.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if ok, err := db.StorageExists(ctx, state.Storage{Tenant: "ws1", PluginID: "acme/recall"}, "value"); err != nil || ok {
		t.Fatalf("storage after uninstall: exists %v (%v)", ok, err)
	}
}

func logsHave(logs []apispec.LogEntry, text string) bool {
	for _, e := range logs {
		if strings.Contains(e.Message, text) {
			return true
		}
	}
	return false
}

// callBackCount reads how many calls back of typ and outcome acme/recall
// made from the daemon's metrics.
func callBackCount(t *testing.T, d *daemon.Daemon, typ, outcome string) uint64 {
	t.Helper()
	families, err := d.Metrics().Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "plugboard_daemon_call_back_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["plugin"] == "acme/recall" && labels["type"] == typ && labels["outcome"] == outcome {
				return m.GetHistogram().GetSampleCount()
			}
		}
	}
	return 0
}
