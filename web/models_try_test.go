package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/store"
)

// TestModelsTry tries demo_model's embedding and rerank models through the
// tryout pages, linked from the Models page, and shows refusals in the form.
func TestModelsTry(t *testing.T) {
	a := MustModelApp(t)
	a.MustUser(t, "bob", store.RoleMember)
	member := a.NewBrowser(t)
	member.MustLogin("bob")
	const (
		emb = "plugboard/demo_model|demo_model|demo-embedding"
		rr  = "plugboard/demo_model|demo_model|demo-rerank"
	)

	t.Run("OKLinked", func(t *testing.T) {
		p := member.Get("/models")
		for typ, model := range map[string]string{"text-embedding": "demo-embedding", "rerank": "demo-rerank"} {
			href := p.Doc.Find(`[data-type="`+typ+`"] [data-model="`+model+`"] [data-testid="try-model"]`).AttrOr("href", "")
			if href != "/models/try/"+typ+"?model="+url.QueryEscape("plugboard/demo_model|demo_model|"+model) {
				t.Errorf("%s's Try link %q", model, href)
			}
		}
		if p.Doc.Find(`[data-type="llm"] [data-testid="try-model"]`).Length() != 0 {
			t.Error("an LLM has a Try link")
		}
		p = member.Get("/models/try/text-embedding?model=" + url.QueryEscape(emb))
		wantStatus(t, p, http.StatusOK)
		if v := p.Doc.Find(`select[name=model] option[selected]`).AttrOr("value", ""); v != emb {
			t.Errorf("picked %q", v)
		}
		wantStatus(t, member.Get("/models/try/llm"), http.StatusNotFound)
	})

	t.Run("OKEmbed", func(t *testing.T) {
		p := member.Post("/models/try/text-embedding", url.Values{"model": {emb}, "texts": {"red apple\n\nred apple\nblue sky\n"}})
		wantStatus(t, p, http.StatusOK)
		if d := p.TestID("try-dimensions").Text(); !strings.Contains(d, "64 dimensions") || !strings.Contains(d, "3 texts") {
			t.Fatalf("dimensions %q", d)
		}
		rows := p.TestID("try-similarity-row")
		if rows.Length() != 3 || rows.Eq(0).Find(`[data-testid="try-similarity-cell"]`).Length() != 3 {
			t.Fatalf("similarity table:\n%.3000s", p.Body)
		}
		if c := rows.Eq(0).Find(`[data-testid="try-similarity-cell"]`).Eq(1).Text(); c != "1.0000" {
			t.Errorf("same texts' similarity %q", c)
		}
		if v := p.Doc.Find(`textarea[name=texts]`).Text(); !strings.Contains(v, "blue sky") {
			t.Errorf("texts not kept: %q", v)
		}
	})

	t.Run("OKRerank", func(t *testing.T) {
		p := member.Post("/models/try/rerank", url.Values{"model": {rr}, "query": {"red apple"}, "docs": {"blue sky\na red apple\nred car"}})
		wantStatus(t, p, http.StatusOK)
		rows := p.TestID("try-ranked-row")
		if rows.Length() == 0 || rows.Eq(0).AttrOr("data-index", "") != "1" ||
			rows.Eq(0).Find(`[data-testid="try-ranked-score"]`).Text() != "1.0000" {
			t.Fatalf("ranked:\n%.3000s", p.Body)
		}
	})

	t.Run("ErrInput", func(t *testing.T) {
		for _, tc := range []struct {
			path string
			form url.Values
			want string
		}{
			{"/models/try/text-embedding", url.Values{"model": {emb}, "texts": {"  \n"}}, "at least one text"},
			{"/models/try/text-embedding", url.Values{"model": {emb}, "texts": {strings.Repeat("x\n", 33)}}, "At most 32"},
			{"/models/try/rerank", url.Values{"model": {rr}, "query": {""}, "docs": {"x"}}, "Write a query"},
			{"/models/try/rerank", url.Values{"model": {rr}, "query": {"q"}, "docs": {""}}, "at least one document"},
			{"/models/try/rerank", url.Values{"model": {"nonsense"}, "query": {"q"}, "docs": {"x"}}, "Pick a model"},
		} {
			p := member.Post(tc.path, tc.form)
			wantStatus(t, p, http.StatusUnprocessableEntity)
			if !strings.Contains(p.Doc.Find(`[data-testid="try-form"]`).Text(), tc.want) {
				t.Errorf("%s %v: no %q in the form:\n%.2000s", tc.path, tc.form, tc.want, p.Body)
			}
		}
	})
}
