package callback_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/app/callback"
	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/web/inner/innertest"
)

// Stack is what `plugboard serve` runs, in-process (innertest.Stack).
type Stack struct{ *innertest.Stack }

func MustStack(tb testing.TB) *Stack { tb.Helper(); return &Stack{innertest.MustStack(tb)} }

// Output is what a run showed: its text, links and JSON messages.
type Output struct {
	Run   *store.Run
	Text  string
	Links []string
}

// run invokes a callbacks tool (of plugin) for alice through app/invoke,
// as the playground does.
func (s *Stack) run(tb testing.TB, plugin, tool string, params map[string]any) Output {
	tb.Helper()
	var out Output
	r, err := s.App.Invoke.Call(context.Background(), invoke.Request{
		Caller:   invoke.Caller{UserID: s.User.ID, Username: "alice", BaseURL: s.URL},
		PluginID: plugin, Provider: "callbacks", Tool: tool, Params: params,
	}, func(m *client.Message) {
		out.Text += m.Text
		if m.Link != "" {
			out.Links = append(out.Links, m.Link)
		}
	})
	if err != nil {
		tb.Fatal(err)
	}
	out.Run = r
	return out
}

func TestEndToEnd(t *testing.T) {
	s := MustStack(t)
	const cb = "plugboard/callbacks"
	done := func(t *testing.T, o Output, want ...string) {
		t.Helper()
		if o.Run.Status != store.RunDone {
			t.Fatalf("run %s: %s (%q)", o.Run.Status, o.Run.Error, o.Text)
		}
		for _, w := range want {
			if !strings.Contains(o.Text, w) {
				t.Fatalf("output %q, want %q in it", o.Text, w)
			}
		}
	}
	t.Run("OKStorage", func(t *testing.T) {
		done(t, s.run(t, cb, "count", map[string]any{"key": "k"}), "storage: k = 1")
		done(t, s.run(t, cb, "count", map[string]any{"key": "k"}), "storage: k = 2")
	})
	t.Run("OKSummary", func(t *testing.T) {
		long := strings.Repeat("Plugboard installs plugins and runs their tools. ", 30)
		done(t, s.run(t, cb, "summarize", map[string]any{"text": long}), "summary: Demo model")
		done(t, s.run(t, cb, "summarize", map[string]any{"text": "short"}), "summary: short")
	})
	t.Run("OKLLM", func(t *testing.T) {
		done(t, s.run(t, cb, "ask", map[string]any{"question": "what is plugboard"}), "llm: Demo model", "what is plugboard")
	})
	t.Run("OKTool", func(t *testing.T) {
		done(t, s.run(t, cb, "call_tool", map[string]any{"text": "one two three"}), "tool: one two three")
		runs, _, err := s.Store.FindRuns(context.Background(), store.RunFilter{})
		if err != nil || !hasRun(runs, "plugboard/gotools", "stream_text") {
			t.Fatalf("the nested tool's run is not recorded: %v", err)
		}
	})
	t.Run("OKUpload", func(t *testing.T) {
		o := s.run(t, cb, "save_file", map[string]any{"text": "saved text", "filename": "n.txt"})
		done(t, o, "file: n.txt (10 bytes)")
		if len(o.Links) != 1 || !strings.HasPrefix(o.Links[0], s.URL+callback.DownloadPath) {
			t.Fatalf("links %v", o.Links)
		}
		if got := mustGet(t, o.Links[0]); got != "saved text" {
			t.Fatalf("downloaded %q", got)
		}
	})
	t.Run("OKTour", func(t *testing.T) {
		o := s.run(t, cb, "tour", map[string]any{"text": "hello plugboard"})
		done(t, o, "storage: tour = 1", "summary: Demo model", "llm: Demo model", "tool: hello plugboard", "file: tour.txt")
		if len(o.Links) != 1 || mustGet(t, o.Links[0]) != "hello plugboard" {
			t.Fatalf("links %v", o.Links)
		}
	})
	t.Run("OKNested", func(t *testing.T) {
		done(t, s.run(t, cb, "nest", map[string]any{"levels": 3}), "level 3 > level 2 > level 1 > bottom")
	})
	t.Run("ErrTooDeep", func(t *testing.T) {
		o := s.run(t, cb, "nest", map[string]any{"levels": 8})
		if o.Run.Status != store.RunFailed || !strings.Contains(o.Run.Error, "call back too deep") {
			t.Fatalf("run %s %q (%q), want the daemon's depth limit", o.Run.Status, o.Run.Error, o.Text)
		}
	})
	t.Run("OKAudited", func(t *testing.T) {
		entries, _, err := s.Store.FindAuditEntries(context.Background(), store.AuditFilter{Action: callback.AuditAction, PerPage: 200})
		if err != nil || !audited(entries, "plugin plugboard/callbacks", "invoke/llm plugboard/demo_model/demo_model demo-chat") ||
			!audited(entries, "plugin plugboard/callbacks", "invoke/tool plugboard/gotools/gotools stream_text") {
			t.Fatalf("audit %d entries, %v", len(entries), err)
		}
	})
	t.Run("ErrDenied", func(t *testing.T) {
		const denied = "plugboard/callbacks_denied"
		for tool, params := range map[string]map[string]any{
			"count":     {"key": "k"},
			"summarize": {"text": strings.Repeat("x ", 600)},
			"ask":       {"question": "q"},
			"call_tool": {"text": "t"},
		} {
			o := s.run(t, denied, tool, params)
			if o.Run.Status != store.RunFailed || !strings.Contains(o.Run.Error, "permission denied") {
				t.Errorf("%s: run %s %q, want Dify's permission-denied error", tool, o.Run.Status, o.Run.Error)
			}
		}
		// Dify allows every plugin to upload files.
		done(t, s.run(t, denied, "save_file", map[string]any{"text": "x"}), "file: note.txt")
	})
}

func hasRun(runs []store.Run, plugin, tool string) bool {
	for _, r := range runs {
		if r.PluginID == plugin && r.Tool == tool && r.Status == store.RunDone {
			return true
		}
	}
	return false
}

func audited(entries []*store.AuditEntry, actor, target string) bool {
	for _, e := range entries {
		if e.Actor == actor && e.Target == target && e.Outcome == store.OutcomeSuccess {
			return true
		}
	}
	return false
}

func mustGet(tb testing.TB, url string) string {
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
