package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/store"
)

// PostHTMX submits a form as htmx does (HX-Request), with the CSRF token.
func (b *Browser) PostHTMX(path string, form url.Values) *Page {
	form.Set("_csrf", b.csrf)
	req, _ := http.NewRequest(http.MethodPost, b.app.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	return b.Do(req)
}

func TestPlaygroundBench(t *testing.T) {
	a := MustCredApp(t)
	b := a.admin(t)
	b.Get("/playground?pick=" + url.QueryEscape(streamPick))
	first := mustRunToEnd(t, b, a, streamPick, map[string]string{"text": "side by side", "delay_ms": "1"})

	t.Run("OKRunBesideItsForm", func(t *testing.T) {
		p := b.Get("/playground/runs/" + first.ID)
		wantStatus(t, p, http.StatusOK)
		bench := p.TestID("playground-bench")
		if bench.Find(`[data-testid=tool-form]`).Length() != 1 || bench.Find(`[data-testid=run-page]`).AttrOr("data-run", "") != first.ID {
			t.Fatalf("the run page does not hold the form and the run side by side:\n%.800s", p.Body)
		}
		if got := p.Doc.Find(`textarea[name="p.text"]`).Text(); got != "side by side" {
			t.Errorf("form text %q, want the run's", got)
		}
		if p.TestID("raw-list").Length() != 1 || p.TestID("rerun").Text() != "Run again" {
			t.Error("no raw message list or Run again button")
		}
	})
	t.Run("OKRawMessagesInTheStream", func(t *testing.T) {
		_, data := readEvents(t, b, a, "/playground/runs/"+first.ID+"/events", "")
		if n := strings.Count(data, `data-testid="raw-message" data-type="text"`); n != 3 {
			t.Fatalf("%d raw text messages, want 3 (one per word):\n%s", n, data)
		}
		if !strings.Contains(data, `data-testid="raw-since">+`) || !strings.Contains(data, `data-testid="raw-size">`) {
			t.Errorf("raw messages lack their time or size:\n%s", data)
		}
	})
	t.Run("OKRawJSONTree", func(t *testing.T) {
		r := mustRunToEnd(t, b, a, "plugboard/gotools:gotools:json_echo", map[string]string{"payload": `{"n": 1000000, "list": ["x", null]}`})
		_, data := readEvents(t, b, a, "/playground/runs/"+r.ID+"/events", "")
		tree := data[strings.Index(data, `data-testid="raw-json"`):]
		for _, want := range []string{"2 keys", "2 items", `<span class="json-key">&#34;n&#34;</span>: <span class="json-scalar">1000000</span>`, `<span class="json-null">null</span>`} {
			if !strings.Contains(tree, want) {
				t.Errorf("the raw JSON tree lacks %q:\n%s", want, tree)
			}
		}
		if strings.Count(tree, "<details open>") != 2 {
			t.Errorf("want the object and the array collapsible:\n%s", tree)
		}
	})
	t.Run("OKEmptyPaneBeforeARun", func(t *testing.T) {
		p := b.Get("/playground?pick=" + url.QueryEscape(streamPick))
		if p.TestID("run-pane-empty").Length() != 1 || p.TestID("tool-form").AttrOr("hx-target", "") != "#run-pane" {
			t.Fatal("the picked tool's form does not post into the run pane")
		}
	})
	t.Run("OKHTMXRunAnswersThePane", func(t *testing.T) {
		p := b.PostHTMX("/playground/runs", runForm(streamPick, map[string]string{"text": "in place", "delay_ms": "1"}))
		wantStatus(t, p, http.StatusOK)
		id := p.TestID("run-page").AttrOr("data-run", "")
		if id == "" || p.Header.Get("HX-Push-Url") != "/playground/runs/"+id {
			t.Fatalf("pane for run %q, push %q:\n%.600s", id, p.Header.Get("HX-Push-Url"), p.Body)
		}
		if p.TestID("playground-page").Length() != 0 || p.TestID("tool-form").Length() != 0 {
			t.Error("the answer holds more than the run pane")
		}
		if names, _ := readEvents(t, b, a, "/playground/runs/"+id+"/events", ""); names[len(names)-1] != "done" {
			t.Fatalf("events %v", names)
		}
	})
	t.Run("ErrHTMXFieldErrorRetargetsTheForm", func(t *testing.T) {
		p := b.PostHTMX("/playground/runs", runForm(streamPick, map[string]string{"delay_ms": "2"}))
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if p.Header.Get("HX-Retarget") != "#tool-form" || p.TestID("error-p.text").Text() != "text is required." {
			t.Fatalf("retarget %q:\n%.600s", p.Header.Get("HX-Retarget"), p.Body)
		}
	})
	t.Run("OKRunAgainSameParameters", func(t *testing.T) {
		b.Get("/playground/runs/" + first.ID)
		p := b.PostHTMX("/playground/runs/"+first.ID+"/rerun", url.Values{})
		wantStatus(t, p, http.StatusOK)
		id := p.TestID("run-page").AttrOr("data-run", "")
		if id == "" || id == first.ID {
			t.Fatalf("rerun pane for %q", id)
		}
		readEvents(t, b, a, "/playground/runs/"+id+"/events", "")
		again, err := a.Store.FindRun(context.Background(), id)
		if err != nil || again.Status != store.RunDone || again.Params["text"] != "side by side" || again.Params["delay_ms"] != float64(1) {
			t.Fatalf("rerun %+v %v", again, err)
		}
		if got := runText(t, a, id); got != "side by side" {
			t.Errorf("rerun output %q", got)
		}
	})
	t.Run("OKRunAgainWithoutScript", func(t *testing.T) {
		b.Get("/playground/runs/" + first.ID)
		p := b.Post("/playground/runs/"+first.ID+"/rerun", url.Values{})
		wantStatus(t, p, http.StatusSeeOther)
		if loc := p.Header.Get("Location"); loc == "/playground/runs/"+first.ID || !strings.HasPrefix(loc, "/playground/runs/") {
			t.Fatalf("redirect to %q", loc)
		}
	})
	t.Run("OKRunAgainReusesFiles", func(t *testing.T) {
		b.Get("/playground?pick=" + url.QueryEscape(fileInfoPick))
		p := b.PostMultipart("/playground/runs", url.Values{"pick": {fileInfoPick}}, upload{Field: "p.file", Name: "again.txt", MIME: "text/plain", Data: []byte("twice")})
		wantStatus(t, p, http.StatusSeeOther)
		r, got := mustRunJSON(t, b, a, p.Header.Get("Location"))
		b.Get("/playground/runs/" + r.ID)
		p = b.Post("/playground/runs/"+r.ID+"/rerun", url.Values{})
		wantStatus(t, p, http.StatusSeeOther)
		_, again := mustRunJSON(t, b, a, p.Header.Get("Location"))
		if again["sha256"] != got["sha256"] || again["filename"] != "again.txt" {
			t.Fatalf("the rerun's file_info answered %v, the run's %v", again, got)
		}
	})
	t.Run("ErrRunAgainOtherMembersRun", func(t *testing.T) {
		a.MustUser(t, "mo", store.RoleMember)
		m := a.NewBrowser(t)
		m.MustLogin("mo")
		m.Get("/playground")
		wantStatus(t, m.Post("/playground/runs/"+first.ID+"/rerun", url.Values{}), http.StatusNotFound)
	})
}
