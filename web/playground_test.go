package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/web"
)

const streamPick = "plugboard/gotools:gotools:stream_text"

// runForm is a filled stream_text form.
func runForm(pick string, fields map[string]string) url.Values {
	v := url.Values{"pick": {pick}}
	for k, val := range fields {
		v.Set("p."+k, val)
	}
	return v
}

// readEvents reads a run's SSE stream to its end and returns the event names
// and the data of "message" events.
func readEvents(tb testing.TB, b *Browser, a *CredApp, path, lastID string) (names []string, data string) {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.URL+path, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := b.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		body, _ := io.ReadAll(resp.Body)
		tb.Fatalf("events: %d %s: %.300s", resp.StatusCode, ct, body)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
			names = append(names, event)
		case strings.HasPrefix(line, "data: ") && event == "message":
			data += strings.TrimPrefix(line, "data: ")
		}
	}
	return names, data
}

func TestPlaygroundForm(t *testing.T) {
	a := MustCredApp(t)
	b := a.admin(t)

	t.Run("OKToolsListed", func(t *testing.T) {
		p := b.Get("/playground")
		wantStatus(t, p, http.StatusOK)
		if n := p.Doc.Find(`select[name=pick] option[value="` + streamPick + `"]`).Length(); n != 1 {
			t.Fatalf("stream_text offered %d times:\n%.600s", n, p.Body)
		}
		if p.TestID("nav-playground").Length() != 1 {
			t.Error("no Playground nav link")
		}
	})
	t.Run("OKFormFromParameters", func(t *testing.T) {
		p := b.Get("/playground?pick=" + url.QueryEscape(streamPick))
		wantStatus(t, p, http.StatusOK)
		if got := p.TestID("tool-description").Text(); !strings.Contains(got, "word by word") {
			t.Errorf("description %q", got)
		}
		if p.Doc.Find(`textarea[name="p.text"][required]`).Length() != 1 || p.TestID("param-text").Find(`[data-testid=required]`).Length() != 1 {
			t.Error("text is not a required textarea")
		}
		delay := p.Doc.Find(`input[type=number][name="p.delay_ms"]`)
		for attr, want := range map[string]string{"value": "50", "min": "0", "max": "5000"} {
			if got, _ := delay.Attr(attr); got != want {
				t.Errorf("delay_ms %s=%q, want %q", attr, got, want)
			}
		}
		p = b.Get("/playground?pick=" + url.QueryEscape("plugboard/gotools:gotools:render_png"))
		if got := p.Doc.Find(`select[name="p.color"] option[selected]`).AttrOr("value", ""); got != "blue" {
			t.Errorf("colour default %q", got)
		}
		if n := p.Doc.Find(`select[name="p.color"] option`).Length(); n != 4 {
			t.Errorf("colour has %d options, want 3 and none", n)
		}
	})
	t.Run("OKCredentialPickerNamesOnly", func(t *testing.T) {
		cred := MustCreateCredential(t, a, "prod", "demo-secret-key-1")
		p := b.Get("/playground?pick=" + url.QueryEscape("plugboard/gotools:gotools:whoami"))
		sel := p.Doc.Find(`select[name=credential] option[selected]`)
		if sel.AttrOr("value", "") != itoa(cred.ID) || !strings.Contains(sel.Text(), "prod") {
			t.Errorf("default credential not preselected: %q", sel.Text())
		}
		if strings.Contains(p.Body, "demo-secret") {
			t.Error("the page shows the secret")
		}
	})
	t.Run("ErrMissingRequired", func(t *testing.T) {
		b.Get("/playground?pick=" + url.QueryEscape(streamPick))
		p := b.Post("/playground/runs", runForm(streamPick, map[string]string{"delay_ms": "5"}))
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if got := p.TestID("error-p.text").Text(); got != "text is required." {
			t.Errorf("field error %q", got)
		}
		if got := p.Doc.Find(`input[name="p.delay_ms"]`).AttrOr("value", ""); got != "5" {
			t.Errorf("delay_ms re-rendered as %q", got)
		}
		if runs, _, _ := a.Store.FindRuns(context.Background(), store.RunFilter{}); len(runs) != 0 {
			t.Errorf("%d runs after a refused form", len(runs))
		}
	})
	t.Run("ErrNumberOutOfRange", func(t *testing.T) {
		p := b.Post("/playground/runs", runForm(streamPick, map[string]string{"text": "x", "delay_ms": "9000"}))
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if got := p.TestID("error-p.delay_ms").Text(); got != "delay_ms must be at most 5000." {
			t.Errorf("field error %q", got)
		}
	})
	t.Run("ErrUnknownTool", func(t *testing.T) {
		wantStatus(t, b.Get("/playground?pick=plugboard/gotools:gotools:nope"), http.StatusNotFound)
	})
}

func TestPlaygroundRuns(t *testing.T) {
	a := MustCredApp(t)
	b := a.admin(t)
	b.Get("/playground")
	p := b.Post("/playground/runs", runForm(streamPick, map[string]string{"text": "one two three", "delay_ms": "1"}))
	wantStatus(t, p, http.StatusSeeOther)
	runPath := p.Header.Get("Location")
	id := strings.TrimPrefix(runPath, "/playground/runs/")

	t.Run("OKStreamReplaysAndEnds", func(t *testing.T) {
		names, data := readEvents(t, b, a, runPath+"/events", "")
		if names[len(names)-1] != "done" {
			t.Fatalf("events %v do not end with done", names)
		}
		for _, w := range []string{">one<", "> two<", "> three<"} {
			if !strings.Contains(data, w) {
				t.Errorf("output %q lacks %q", data, w)
			}
		}
		r, err := a.Store.FindRun(context.Background(), id)
		if err != nil || r.Status != store.RunDone || r.Messages != 3 {
			t.Fatalf("run %+v %v", r, err)
		}
	})
	t.Run("OKObservationAndCurl", func(t *testing.T) {
		p := b.Get(runPath)
		if got := p.TestID("observation-text").Text(); got != "one two three" {
			t.Errorf("observation %q", got)
		}
		curl := p.TestID("curl-command").Text()
		for _, want := range []string{"/plugin/default/dispatch/tool/invoke", "X-Plugin-ID: plugboard/gotools", `"tool": "stream_text"`, `"credentials": {}`, `"credential_type": "api-key"`} {
			if !strings.Contains(curl, want) {
				t.Errorf("curl lacks %q:\n%s", want, curl)
			}
		}
		if p.TestID("curl-fill-key").Length() != 1 || p.TestID("curl-key-hint").Length() != 0 {
			t.Error("an admin is not offered the daemon key for the curl command")
		}
	})
	t.Run("ErrDaemonKeyNotGiven", func(t *testing.T) {
		// This app was started without the daemon's key: the route says so.
		wantStatus(t, b.Get("/playground/daemon-key"), http.StatusNotFound)
	})
	t.Run("OKResumeFromLastEventID", func(t *testing.T) {
		_, data := readEvents(t, b, a, runPath+"/events", "2")
		if strings.Contains(data, "one") || !strings.Contains(data, "three") {
			t.Fatalf("resumed output %q", data)
		}
	})
	t.Run("OKImageServedAsFile", func(t *testing.T) {
		b.Get("/playground")
		p := b.Post("/playground/runs", runForm("plugboard/gotools:gotools:render_png", map[string]string{"width": "8", "height": "8", "color": "red"}))
		wantStatus(t, p, http.StatusSeeOther)
		loc := p.Header.Get("Location")
		_, data := readEvents(t, b, a, loc+"/events", "")
		if !strings.Contains(data, `data-testid="out-image"`) {
			t.Fatalf("no image in %q", data)
		}
		f := b.Get(loc + "/files/1")
		wantStatus(t, f, http.StatusOK)
		if f.Header.Get("Content-Type") != "image/png" || f.Header.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.HasPrefix(f.Header.Get("Content-Disposition"), "attachment; filename=") {
			t.Fatalf("file headers %v", f.Header)
		}
	})
	t.Run("OKHistoryAndRerunForm", func(t *testing.T) {
		p := b.Get("/playground/runs")
		if p.TestID("run-row").Length() != 2 {
			t.Fatalf("%d runs listed", p.TestID("run-row").Length())
		}
		p = b.Get("/playground?pick=" + url.QueryEscape(streamPick) + "&from=" + id)
		if got := p.Doc.Find(`textarea[name="p.text"]`).Text(); got != "one two three" {
			t.Fatalf("re-run form text %q", got)
		}
	})
	t.Run("ErrOtherMembersRun", func(t *testing.T) {
		a.MustUser(t, "mo", store.RoleMember)
		m := a.NewBrowser(t)
		m.MustLogin("mo")
		for _, path := range []string{runPath, runPath + "/events", runPath + "/files/1", "/playground/runs/nope"} {
			wantStatus(t, m.Get(path), http.StatusNotFound)
		}
		if m.Get("/playground/runs").TestID("run-row").Length() != 0 {
			t.Error("a member sees the admin's runs")
		}
	})
	t.Run("OKDelete", func(t *testing.T) {
		b.Get(runPath)
		wantRedirect(t, b.Post(runPath+"/delete", url.Values{}), "/playground/runs")
		wantStatus(t, b.Get(runPath), http.StatusNotFound)
	})
	t.Run("ErrDaemonKeyForMembers", func(t *testing.T) {
		a.MustUser(t, "mia", store.RoleMember)
		m := a.NewBrowser(t)
		m.MustLogin("mia")
		wantStatus(t, m.Get("/playground/daemon-key"), http.StatusForbidden)
		m.Get("/playground")
		mp := m.Post("/playground/runs", runForm(streamPick, map[string]string{"text": "hers", "delay_ms": "1"}))
		page := m.Get(mp.Header.Get("Location"))
		if page.TestID("curl-fill-key").Length() != 0 || page.TestID("curl-key-hint").Length() != 1 {
			t.Error("a member is offered the daemon key, or not told who has it")
		}
	})
}

// Client is the browser's HTTP client, for reading event streams.
func (b *Browser) Client() *http.Client { return b.hc }

// MustCreateCredential stores a gotools credential (made the default, as the
// first one) or fails the test.
func MustCreateCredential(tb testing.TB, a *CredApp, name, key string) *store.Credential {
	tb.Helper()
	c, err := a.Creds.CreateCredential(context.Background(), "test", store.CredentialInput{PluginID: "plugboard/gotools",
		Provider: "gotools", Name: name, Secrets: map[string]string{"api_key": key}})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestPlaygroundDaemonDown(t *testing.T) {
	a := MustApp(t, deadDaemon)
	a.MustUser(t, "alice", store.RoleAdmin)
	b := a.NewBrowser(t)
	b.MustLogin("alice")
	p := b.Get("/playground")
	wantStatus(t, p, http.StatusOK)
	if got := p.TestID("playground-problem").Text(); !strings.Contains(got, "daemon") {
		t.Errorf("problem %q does not name the daemon", got)
	}
	p = b.Post("/playground/runs", runForm(streamPick, map[string]string{"text": "x"}))
	wantStatus(t, p, http.StatusServiceUnavailable)
	if got := p.TestID("playground-problem").Text(); !strings.Contains(got, "daemon") {
		t.Errorf("run refused with %q, which does not name the daemon", got)
	}
	if runs, _, _ := a.Store.FindRuns(context.Background(), store.RunFilter{}); len(runs) != 0 {
		t.Errorf("%d runs recorded with the daemon down", len(runs))
	}
}

func TestPlaygroundMemberUsesCredential(t *testing.T) {
	a := MustCredApp(t)
	cred := MustCreateCredential(t, a, "shared", "demo-member-key-42")
	a.MustUser(t, "mo", store.RoleMember)
	m := a.NewBrowser(t)
	m.MustLogin("mo")
	pick := "plugboard/gotools:gotools:whoami"
	p := m.Get("/playground?pick=" + url.QueryEscape(pick))
	wantStatus(t, p, http.StatusOK)
	p = m.Post("/playground/runs", url.Values{"pick": {pick}, "credential": {itoa(cred.ID)}})
	wantStatus(t, p, http.StatusSeeOther)
	loc := p.Header.Get("Location")
	names, data := readEvents(t, m, a, loc+"/events", "")
	if names[len(names)-1] != "done" || !strings.Contains(data, "You are mo, calling with API key demo-…42 (18 characters).") {
		t.Fatalf("whoami events %v: %q", names, data)
	}
	if strings.Contains(data, "demo-member-key-42") {
		t.Fatal("the tool's output page shows the whole key")
	}
	r, err := a.Store.FindRun(context.Background(), strings.TrimPrefix(loc, "/playground/runs/"))
	if err != nil || r.Status != store.RunDone || r.CredentialID != cred.ID {
		t.Fatalf("run %+v %v", r, err)
	}
	t.Run("ErrForeignCredential", func(t *testing.T) {
		m.Get("/playground?pick=" + url.QueryEscape(pick))
		p := m.Post("/playground/runs", url.Values{"pick": {pick}, "credential": {"999"}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if p.TestID("error-credential").Text() == "" {
			t.Error("no field error for an unknown credential")
		}
	})
}

// TestPlaygroundEventsLogged: what the event stream cannot show as stored
// is logged with the run's id, and the stream still ends with done.
func TestPlaygroundEventsLogged(t *testing.T) {
	a := MustCredApp(t)
	b := a.admin(t)
	r := mustRunToEnd(t, b, a, streamPick, map[string]string{"text": "one", "delay_ms": "0"})
	bad := &store.RunEvent{RunID: r.ID, Type: "variable", Payload: json.RawMessage(`{"variable":{"variable_name":7}}`)}
	if err := a.Store.AppendRunEvent(context.Background(), bad); err != nil {
		t.Fatal(err)
	}
	path := "/playground/runs/" + r.ID + "/events"
	t.Run("OKUndecodableMessage", func(t *testing.T) {
		names, _ := readEvents(t, b, a, path, strconv.Itoa(bad.Seq-1))
		if len(names) != 3 || names[0] != "message" || names[2] != "done" {
			t.Fatalf("events %v, want message, status, done", names)
		}
		want := fmt.Sprintf("run=%s seq=%d", r.ID, bad.Seq)
		if logs := a.Logs.String(); !strings.Contains(logs, "level=WARN msg=\"playground events: message shown as far as it decodes\" "+want) {
			t.Fatalf("no warning with %q in the logs:\n%s", want, logs)
		}
	})
	t.Run("OKBadLastEventID", func(t *testing.T) {
		names, _ := readEvents(t, b, a, path, "x7")
		if n := strings.Count(strings.Join(names, " "), "message"); n != bad.Seq || names[len(names)-1] != "done" {
			t.Fatalf("events %v, want all %d messages and done", names, bad.Seq)
		}
		if logs := a.Logs.String(); !strings.Contains(logs, "Last-Event-ID is not a message number; sending every message\" run="+r.ID) {
			t.Fatalf("no warning about Last-Event-ID in the logs:\n%s", logs)
		}
	})
	t.Run("OKInterruptedRunFinished", func(t *testing.T) {
		// Left "running" by an earlier process: the stream marks it failed.
		orphan := &store.Run{UserID: r.UserID, Username: r.Username, PluginID: r.PluginID, Provider: r.Provider, Tool: r.Tool}
		if err := a.Store.CreateRun(context.Background(), orphan); err != nil {
			t.Fatal(err)
		}
		names, _ := readEvents(t, b, a, "/playground/runs/"+orphan.ID+"/events", "")
		if len(names) != 2 || names[0] != "status" || names[1] != "done" {
			t.Fatalf("events %v, want status, done", names)
		}
		got, err := a.Store.FindRun(context.Background(), orphan.ID)
		if err != nil || got.Status != store.RunFailed || got.Error != "The run was interrupted." {
			t.Fatalf("orphan run %+v %v", got, err)
		}
	})
}

func TestPlaygroundOrphanRuns(t *testing.T) {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "plugboard.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// A run left "running" by an earlier process; the app starts again.
	orphan := &store.Run{UserID: 1, Username: "alice", PluginID: "plugboard/gotools", Provider: "gotools", Tool: "stream_text"}
	if err := db.CreateRun(context.Background(), orphan); err != nil {
		t.Fatal(err)
	}
	web.New(web.Config{Store: db})
	r, err := db.FindRun(context.Background(), orphan.ID)
	if err != nil || r.Status != store.RunFailed || r.Error == "" {
		t.Fatalf("orphan run %+v %v", r, err)
	}
}

// runText is the text of a run's stored text messages, in order (other
// events, such as the error of a failed run, are skipped).
func runText(tb testing.TB, a *CredApp, id string) string {
	tb.Helper()
	evs, err := a.Store.RunEvents(context.Background(), id, 0)
	if err != nil {
		tb.Fatal(err)
	}
	var text strings.Builder
	for _, ev := range evs {
		var p struct{ Text string }
		if ev.Type != "text" {
			continue
		}
		if err := json.Unmarshal(ev.Payload, &p); err != nil {
			tb.Fatalf("text event %d: %v", ev.Seq, err)
		}
		text.WriteString(p.Text)
	}
	return text.String()
}

// mustRunToEnd starts a run from the playground form, follows its events to
// the end and returns the stored run.
func mustRunToEnd(tb testing.TB, b *Browser, a *CredApp, pick string, fields map[string]string) *store.Run {
	tb.Helper()
	b.Get("/playground?pick=" + url.QueryEscape(pick))
	p := b.Post("/playground/runs", runForm(pick, fields))
	wantStatus(tb, p, http.StatusSeeOther)
	loc := p.Header.Get("Location")
	if names, _ := readEvents(tb, b, a, loc+"/events", ""); names[len(names)-1] != "done" {
		tb.Fatalf("events %v do not end with done", names)
	}
	r, err := a.Store.FindRun(context.Background(), strings.TrimPrefix(loc, "/playground/runs/"))
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func TestPlaygroundPluginCrash(t *testing.T) {
	a := MustCredApp(t)
	b := a.admin(t)
	r := mustRunToEnd(t, b, a, "plugboard/gotools:gotools:crash", map[string]string{"after": "3"})
	if r.Status != store.RunFailed || !strings.Contains(r.Error, "exited unexpectedly") || strings.Contains(r.Error, "did not answer") {
		t.Fatalf("crashed run ended %s with %q, want failed saying the plugin exited", r.Status, r.Error)
	}
	if got := runText(t, a, r.ID); got != "word1 word2 word3" {
		t.Fatalf("stored output %q, want the words streamed before the crash", got)
	}
	t.Run("OKRestarted", func(t *testing.T) {
		r := mustRunToEnd(t, b, a, streamPick, map[string]string{"text": "still here", "delay_ms": "1"})
		if r.Status != store.RunDone || runText(t, a, r.ID) != "still here" {
			t.Fatalf("run after the crash ended %s (%q) with %q", r.Status, r.Error, runText(t, a, r.ID))
		}
	})
}

func TestPlaygroundRedactsSecrets(t *testing.T) {
	const key = "demo-admins-secret-7781"
	a := MustCredApp(t)
	cred := MustCreateCredential(t, a, "admin's", key)
	a.MustUser(t, "mo", store.RoleMember)
	m := a.NewBrowser(t)
	m.MustLogin("mo")
	pick := "plugboard/gotools:gotools:whoami"
	m.Get("/playground?pick=" + url.QueryEscape(pick))
	p := m.Post("/playground/runs", url.Values{"pick": {pick}, "credential": {itoa(cred.ID)}, "p.reveal": {"true"}})
	wantStatus(t, p, http.StatusSeeOther)
	loc := p.Header.Get("Location")
	names, data := readEvents(t, m, a, loc+"/events", "")
	if names[len(names)-1] != "done" || !strings.Contains(data, `&#34;api_key&#34;: &#34;[redacted]&#34;`) {
		t.Fatalf("events %v: %q; want the key redacted in the JSON", names, data)
	}
	page := m.Get(loc)
	if got := page.TestID("observation-text").Text(); !strings.Contains(got, "Your API key is [redacted].") {
		t.Fatalf("observation %q; want the key split across chunks redacted", got)
	}
	for what, body := range map[string]string{"event stream": data, "run page": page.Body} {
		if strings.Contains(body, key) || strings.Contains(body, key[len(key)/2:]) {
			t.Errorf("the %s shows the secret (or its second half)", what)
		}
	}
	evs, err := a.Store.RunEvents(context.Background(), strings.TrimPrefix(loc, "/playground/runs/"), 0)
	if err != nil || len(evs) < 2 {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	for _, ev := range evs {
		if strings.Contains(string(ev.Payload), key[:len(key)/2]) || strings.Contains(string(ev.Payload), key[len(key)/2:]) {
			t.Errorf("stored %s event holds the secret: %s", ev.Type, ev.Payload)
		}
	}
	for _, f := range []string{a.Path, a.Path + "-wal"} {
		raw, _ := os.ReadFile(f)
		if strings.Contains(string(raw), key) {
			t.Errorf("%s holds the secret in plain text", filepath.Base(f))
		}
	}
}
