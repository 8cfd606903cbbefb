package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/store"
)

// mustSeedAgentRun records a finished agent run of a user, without running
// anything.
func mustSeedAgentRun(tb testing.TB, a *CredApp, userID int64, username, query string) *store.AgentRun {
	tb.Helper()
	spec, _ := json.Marshal(map[string]any{"query": query, "strategy": "function_calling",
		"model": map[string]any{"PluginID": "plugboard/demo_model", "Provider": "demo_model", "Model": "demo-chat"},
		"tools": []any{map[string]any{"plugin_id": "plugboard/gotools", "provider": "gotools", "tool": "json_echo"}}})
	r := &store.AgentRun{UserID: userID, Username: username, Spec: spec}
	ctx := context.Background()
	if err := a.Store.CreateAgentRun(ctx, r); err != nil {
		tb.Fatal(err)
	}
	step := `{"n":1,"text":"` + username + ` thinks","tool_calls":[{"id":"c1","name":"json_echo","arguments":"{}","status":"done","observation":"{}"}]}`
	if err := a.Store.SaveAgentStep(ctx, r.ID, 1, json.RawMessage(step)); err != nil {
		tb.Fatal(err)
	}
	if err := a.Store.FinishAgentRun(ctx, r.ID, store.RunDone, username+"'s answer", "", 12); err != nil {
		tb.Fatal(err)
	}
	return r
}

func TestAgentPages(t *testing.T) {
	a := MustCredApp(t)
	b := a.admin(t)
	a.MustUser(t, "mo", store.RoleMember)
	m := a.NewBrowser(t)
	m.MustLogin("mo")
	mine := mustSeedAgentRun(t, a, userID(t, a, "mo"), "mo", "mo asks")
	theirs := mustSeedAgentRun(t, a, userID(t, a, "alice"), "alice", "alice asks")

	t.Run("OKMemberSeesTheBuilderAndOwnRuns", func(t *testing.T) {
		p := m.Get("/agent")
		wantStatus(t, p, http.StatusOK)
		if p.TestID("agent-tool").Length() == 0 || p.TestID("agent-history-item").Length() != 1 ||
			p.TestID("agent-history-item").AttrOr("data-run-id", "") != mine.ID {
			t.Fatalf("tools %d, history %d", p.TestID("agent-tool").Length(), p.TestID("agent-history-item").Length())
		}
		p = m.Get("/agent/runs/" + mine.ID)
		wantStatus(t, p, http.StatusOK)
		if p.TestID("agent-answer").Text() != "mo's answer" || p.TestID("agent-call").Length() != 1 ||
			p.TestID("input-agent-query").Text() != "mo asks" {
			t.Fatalf("run page: answer %q, calls %d", p.TestID("agent-answer").Text(), p.TestID("agent-call").Length())
		}
	})
	t.Run("ErrMemberCannotSeeAnothersRun", func(t *testing.T) {
		for _, path := range []string{"", "/events", "/export"} {
			wantStatus(t, m.Get("/agent/runs/"+theirs.ID+path), http.StatusNotFound)
		}
		wantStatus(t, m.Post("/agent/runs/"+theirs.ID+"/rerun", url.Values{}), http.StatusNotFound)
		wantStatus(t, m.Post("/agent/runs/"+theirs.ID+"/cancel", url.Values{}), http.StatusNotFound)
	})
	t.Run("OKAdminSeesEveryonesRuns", func(t *testing.T) {
		p := b.Get("/agent")
		if p.TestID("agent-history-item").Length() != 2 {
			t.Fatalf("history %d", p.TestID("agent-history-item").Length())
		}
		wantStatus(t, b.Get("/agent/runs/"+mine.ID), http.StatusOK)
	})
	t.Run("OKExport", func(t *testing.T) {
		p := m.Get("/agent/runs/" + mine.ID + "/export")
		wantStatus(t, p, http.StatusOK)
		var out struct {
			Status string `json:"status"`
			Answer string `json:"answer"`
			Steps  []struct {
				Calls []struct{ Name string } `json:"tool_calls"`
			} `json:"steps"`
		}
		if err := json.Unmarshal([]byte(p.Body), &out); err != nil || out.Status != "done" || out.Answer != "mo's answer" ||
			len(out.Steps) != 1 || len(out.Steps[0].Calls) != 1 || out.Steps[0].Calls[0].Name != "json_echo" {
			t.Fatalf("export %v: %s", err, p.Body)
		}
		if !strings.Contains(p.Header.Get("Content-Disposition"), "agent-run-"+mine.ID+".json") {
			t.Errorf("disposition %q", p.Header.Get("Content-Disposition"))
		}
	})
	t.Run("OKEventsOfAnEndedRun", func(t *testing.T) {
		p := m.Get("/agent/runs/" + mine.ID + "/events")
		wantStatus(t, p, http.StatusOK)
		if !strings.Contains(p.Body, "event: end\n") || !strings.Contains(p.Body, `"answer":"mo's answer"`) {
			t.Fatalf("events: %s", p.Body)
		}
	})
	t.Run("ErrFormRefusedNothingRecorded", func(t *testing.T) {
		for name, form := range map[string]url.Values{
			"no model":      {"query": {"hi"}},
			"unknown model": {"model": {"plugboard/nope|nope|x"}, "query": {"hi"}},
		} {
			before, _ := a.Store.FindAgentRuns(context.Background(), 0, 0)
			p := m.Post("/agent/runs", form)
			after, _ := a.Store.FindAgentRuns(context.Background(), 0, 0)
			if p.StatusCode != http.StatusUnprocessableEntity || p.TestID("agent-error-form").Text() == "" || len(after) != len(before) ||
				p.TestID("input-agent-query").Text() != "hi" {
				t.Fatalf("%s: %d %q, runs %d → %d", name, p.StatusCode, p.TestID("agent-error-form").Text(), len(before), len(after))
			}
		}
	})
}
