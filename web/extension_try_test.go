package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestTryExtension(t *testing.T) {
	app := MustExtApp(t, "127.0.0.1")
	ep := MustEndpoint(t)
	admin := app.NewBrowser(t)
	admin.MustLogin("root")
	e := app.MustCreate(t, admin, "Tryme", ep.URL+"/ok", "try-key-12345")
	path := "/extensions/" + e.ID + "/try"

	for _, tc := range []struct {
		point string
		form  url.Values
		want  map[string]any
	}{
		{"app.external_data_tool.query",
			url.Values{"app_id": {"app-1"}, "tool_variable": {"weather"}, "inputs": {`{"city":"Paris"}`}, "query": {"How warm?"}},
			map[string]any{"app_id": "app-1", "tool_variable": "weather", "inputs": map[string]any{"city": "Paris"}, "query": "How warm?"}},
		{"app.moderation.input",
			url.Values{"app_id": {"app-2"}, "inputs": {""}, "query": {"bad words"}},
			map[string]any{"app_id": "app-2", "inputs": map[string]any{}, "query": "bad words"}},
		{"app.moderation.output",
			url.Values{"app_id": {"app-3"}, "text": {"an answer"}},
			map[string]any{"app_id": "app-3", "text": "an answer"}},
	} {
		t.Run("OK/"+tc.point, func(t *testing.T) {
			admin.Get("/extensions/" + e.ID)
			tc.form.Set("point", tc.point)
			p := admin.Post(path, tc.form)
			wantStatus(t, p, http.StatusOK)
			last := ep.Last()
			if last["point"] != tc.point || !reflect.DeepEqual(last["params"], tc.want) {
				t.Fatalf("endpoint got %v", last)
			}
			if auths := ep.Auths(); auths[len(auths)-1] != "Bearer try-key-12345" {
				t.Fatalf("Authorization %q", auths[len(auths)-1])
			}
			if got := p.TestID("try-status").Text(); got != "200" {
				t.Fatalf("status shown %q", got)
			}
			var shown map[string]any
			body := p.TestID("try-body").Text()
			if err := json.Unmarshal([]byte(body), &shown); err != nil || shown["got_point"] != tc.point {
				t.Fatalf("body shown %q (%v)", body, err)
			}
			if !strings.Contains(body, "\n  \"got_point\"") {
				t.Fatalf("body not pretty-printed: %q", body)
			}
			if p.TestID("try-time").Text() == "" {
				t.Fatal("no time shown")
			}
			if sel := p.Doc.Find(`#point option[selected]`).AttrOr("value", ""); sel != tc.point {
				t.Fatalf("selected point %q", sel)
			}
		})
	}
	t.Run("ErrInputsNotJSON", func(t *testing.T) {
		calls := len(ep.Auths())
		p := admin.Post(path, url.Values{"point": {"app.moderation.input"}, "app_id": {"a"}, "inputs": {"{city: Paris}"}, "query": {"q"}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if got := p.TestID("error-inputs").Text(); !strings.HasPrefix(got, "inputs is not valid JSON") {
			t.Fatalf("error %q", got)
		}
		if len(ep.Auths()) != calls {
			t.Fatal("sent anyway")
		}
	})
	t.Run("ErrInputsNotObject", func(t *testing.T) {
		p := admin.Post(path, url.Values{"point": {"app.external_data_tool.query"}, "app_id": {"a"}, "inputs": {"[1,2]"}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if got := p.TestID("error-inputs").Text(); !strings.HasPrefix(got, "inputs must be a JSON object") {
			t.Fatalf("error %q", got)
		}
	})
	t.Run("ErrAppIDRequired", func(t *testing.T) {
		p := admin.Post(path, url.Values{"point": {"app.moderation.output"}, "text": {"t"}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if got := p.TestID("error-app_id").Text(); got != "app_id is required." {
			t.Fatalf("error %q", got)
		}
	})
	t.Run("OKHTMXFragment", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, app.URL+path+"?point=app.moderation.output", nil)
		req.Header.Set("HX-Request", "true")
		p := admin.Do(req)
		wantStatus(t, p, http.StatusOK)
		if p.TestID("try-panel").Length() != 1 || p.TestID("topbar").Length() != 0 {
			t.Fatal("not the panel alone")
		}
		if p.TestID("input-text").Length() != 1 || p.TestID("input-query").Length() != 0 {
			t.Fatal("not the moderation.output fields")
		}
	})
}

func TestTryExtensionAnswers(t *testing.T) {
	app := MustExtApp(t, "127.0.0.1")
	ep := MustEndpoint(t)
	admin := app.NewBrowser(t)
	admin.MustLogin("root")
	e := app.MustCreate(t, admin, "Flaky", ep.URL+"/ok", "flaky-key-123")
	// The endpoint changes behind the extension's back: store a path that
	// fails, as an endpoint that broke after it was saved would.
	if _, err := app.Store.UpdateExtension(t.Context(), app.Keys, "root", e.ID, storeInput("Flaky", ep.URL+"/500", "flaky-key-123")); err != nil {
		t.Fatal(err)
	}
	form := url.Values{"point": {"app.moderation.output"}, "app_id": {"a"}, "text": {"t"}}
	t.Run("OKStatus500Shown", func(t *testing.T) {
		admin.Get("/extensions/" + e.ID)
		p := admin.Post("/extensions/"+e.ID+"/try", form)
		wantStatus(t, p, http.StatusOK)
		if p.TestID("try-status").Text() != "500" || !strings.HasPrefix(p.TestID("try-body").Text(), "boom: the extension crashed") {
			t.Fatalf("shown %q %q", p.TestID("try-status").Text(), p.TestID("try-body").Text())
		}
	})
	t.Run("ErrSlow", func(t *testing.T) {
		app.Store.UpdateExtension(t.Context(), app.Keys, "root", e.ID, storeInput("Flaky", ep.URL+"/slow", "flaky-key-123"))
		p := admin.Post("/extensions/"+e.ID+"/try", form)
		if got := p.TestID("try-error").Text(); got != "No answer: no answer within 300ms (read timeout)." {
			t.Fatalf("error %q", got)
		}
	})
	t.Run("ErrRefused", func(t *testing.T) {
		app.Store.UpdateExtension(t.Context(), app.Keys, "root", e.ID, storeInput("Flaky", "http://10.0.0.1/x", "flaky-key-123"))
		p := admin.Post("/extensions/"+e.ID+"/try", form)
		if got := p.TestID("try-error").Text(); !strings.Contains(got, "refused: 10.0.0.1 is a private address") {
			t.Fatalf("error %q", got)
		}
	})
}
