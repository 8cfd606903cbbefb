package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/crypto/bcrypt"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/apptest"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
	"github.com/plugboard/plugboard/web"
	"github.com/plugboard/plugboard/web/guard"
)

const (
	demoModels   = "/models/plugboard/demo_model/demo_model"
	openaiModels = "/models/plugboard/openai_compatible/openai_compatible"
)

// ModelApp is the admin app over a real daemon running both model
// examples, with a stand-in OpenAI server for the customizable models.
type ModelApp struct {
	*App
	StandIn string // base URL with /v1
	Logs    *syncBuffer
}

func MustModelApp(tb testing.TB) *ModelApp {
	tb.Helper()
	if testing.Short() {
		tb.Skip("builds and runs the model examples under a daemon")
	}
	ctx := context.Background()
	cl := apptest.MustDaemon(tb)
	apptest.MustInstallExample(tb, cl, "demo_model")
	apptest.MustInstallExample(tb, cl, "openai_compatible")
	apptest.MustInstallDir(tb, cl, "daemon/api/testdata/pymodel") // a provider credential: api_key "good"
	dir := tb.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "plugboard.db"))
	if err != nil {
		tb.Fatal(err)
	}
	db.HashCost = bcrypt.MinCost
	keys, err := secret.Open(ctx, dir, "", db)
	if err != nil {
		tb.Fatal(err)
	}
	logs := &syncBuffer{}
	sk, _ := guard.LoadSessionKeys(filepath.Join(dir, "session-keys"))
	h := web.New(web.Config{Store: db, Keys: keys, Daemon: cl, SessionKeys: sk,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	srv := httptest.NewServer(h)
	tb.Cleanup(func() { srv.Close(); h.Close(); db.Close() })
	return &ModelApp{App: &App{URL: srv.URL, Store: db, Handler: h}, StandIn: apptest.OpenAIStandIn(tb).URL + "/v1", Logs: logs}
}

// customModelForm is the add form of an openai_compatible LLM.
func (a *ModelApp) customModelForm(model, key string) url.Values {
	return url.Values{"model_type": {"llm"}, "model": {model}, "f_endpoint_url": {a.StandIn}, "f_api_key": {key},
		"f_context_size": {"8192"}, "f_function_calling_type": {"tool_call"}, "f_vision_support": {"true"}}
}

// noSecret fails when a page shows a secret.
func noSecret(tb testing.TB, p *Page, secrets ...string) {
	tb.Helper()
	for _, s := range secrets {
		if strings.Contains(p.Body, s) {
			tb.Fatalf("%s %s shows a secret", p.Request.Method, p.Request.URL.Path)
		}
	}
}

func TestModelsPages(t *testing.T) {
	a := MustModelApp(t)
	a.MustUser(t, "alice", store.RoleAdmin)
	a.MustUser(t, "bob", store.RoleMember)
	admin := a.NewBrowser(t)
	admin.MustLogin("alice")
	wrongKey := "sk-wrong-Sup3rSecret-999"

	t.Run("OKProvidersListed", func(t *testing.T) {
		p := admin.Get("/models")
		wantStatus(t, p, http.StatusOK)
		if p.TestID("nav-models").Length() != 1 {
			t.Error("no Models nav entry")
		}
		demo := p.Doc.Find(`[data-provider="plugboard/demo_model/demo_model"]`)
		if demo.Length() != 1 || demo.Find(`img.plugin-icon[src^="/plugin-icon?"]`).Length() != 1 {
			t.Fatalf("demo provider or its icon not listed:\n%.1500s", p.Body)
		}
		row := demo.Find(`[data-testid="model-table"][data-type="llm"] [data-model="demo-chat"]`)
		if row.Length() != 1 || row.Find(`[data-testid="context-size"]`).Text() != "4096" ||
			!strings.Contains(row.Find(`[data-testid="pricing"]`).Text(), "USD") ||
			row.Find(`[data-testid="feature"]`).FilterFunction(func(_ int, s *goquery.Selection) bool { return s.Text() == "tool-call" }).Length() != 1 {
			t.Fatalf("demo-chat row: %q", row.Text())
		}
		if demo.Find(`[data-testid="model-table"][data-type="rerank"]`).Length() != 1 ||
			demo.Find(`[data-testid="model-type"]`).Length() != 6 {
			t.Errorf("demo types/groups: %q", demo.Text())
		}
		if p.Doc.Find(`[data-provider="plugboard/openai_compatible/openai_compatible"] [data-testid="no-custom-models"]`).Length() != 1 {
			t.Error("openai_compatible without models does not say so")
		}
	})

	t.Run("OKFormFromSchema", func(t *testing.T) {
		p := admin.Get(openaiModels)
		wantStatus(t, p, http.StatusOK)
		for sel, want := range map[string]int{
			`input[type=password][name=f_api_key]`:                                 1,
			`input[type=text][name=f_endpoint_url]`:                                1,
			`input[name=f_context_size][value="4096"]`:                             1,
			`select[name=f_function_calling_type] option[value=no_call][selected]`: 1,
			`input[type=checkbox][name=f_vision_support]`:                          1,
			`select[name=model_type] option[value=rerank]`:                         1,
			`[data-testid="field-rerank_endpoint_url"][hidden]`:                    1, // rerank only; llm is picked
			`[data-testid="field-max_tokens_to_sample"][hidden]`:                   0,
			`[data-testid="field-max_tokens_to_sample"][data-show-on]`:             1,
			`script[src="/static/js/models.js"]`:                                   1,
		} {
			if n := p.Doc.Find(sel).Length(); n != want {
				t.Errorf("%s: %d, want %d", sel, n, want)
			}
		}
		p = admin.Get(demoModels)
		wantStatus(t, p, http.StatusOK)
		if p.TestID("no-credential-needed").Length() != 1 || p.TestID("add-custom-model").Length() != 0 {
			t.Errorf("demo_model page:\n%.1200s", p.Body)
		}
	})

	t.Run("ErrRequiredFields", func(t *testing.T) {
		admin.Get(openaiModels)
		p := admin.Post(openaiModels+"/custom", url.Values{"model_type": {"llm"}, "model": {""}, "f_api_key": {wrongKey}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if p.TestID("error-model").Length() != 1 || p.TestID("error-f_endpoint_url").Length() != 1 {
			t.Fatalf("errors not shown:\n%.2000s", p.Body)
		}
		if !strings.Contains(p.TestID("error-f_api_key").Text(), "Type it again") {
			t.Errorf("typed secret not asked again: %q", p.TestID("error-f_api_key").Text())
		}
		noSecret(t, p, wrongKey)
	})

	t.Run("ErrPluginRefuses", func(t *testing.T) {
		p := admin.Post(openaiModels+"/custom", a.customModelForm("llama3.1:8b", wrongKey))
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if msg := p.TestID("form-error").Text(); !strings.Contains(msg, "Incorrect API key provided") {
			t.Fatalf("refusal = %q", msg)
		}
		if p.Doc.Find(`input[name=f_endpoint_url]`).AttrOr("value", "") != a.StandIn {
			t.Error("the typed URL was not kept")
		}
		noSecret(t, p, wrongKey)
	})

	t.Run("OKAddCustomModel", func(t *testing.T) {
		p := admin.Post(openaiModels+"/custom", a.customModelForm("llama3.1:8b", apptest.StandInKey))
		wantRedirect(t, p, openaiModels)
		p = admin.Get(openaiModels)
		row := p.Doc.Find(`[data-testid="custom-model-row"][data-model="llama3.1:8b"][data-type="llm"]`)
		if row.Length() != 1 || row.Find(`[data-testid="value-api_key"]`).Text() != secret.Mask(apptest.StandInKey) {
			t.Fatalf("custom model row:\n%.2000s", p.Body)
		}
		noSecret(t, p, apptest.StandInKey)
		// Edit: the form holds the mask; saved back, the stored key stays
		// (the stand-in refuses any other).
		p = admin.Get(openaiModels + "?edit_type=llm&edit_model=llama3.1:8b")
		mask := p.Doc.Find(`input[name=f_api_key]`).AttrOr("value", "")
		if mask != secret.Mask(apptest.StandInKey) || p.Doc.Find(`input[name=f_context_size]`).AttrOr("value", "") != "8192" {
			t.Fatalf("edit form: key %q", mask)
		}
		noSecret(t, p, apptest.StandInKey)
		form := a.customModelForm("llama3.1:8b", mask)
		form.Set("f_context_size", "16384")
		wantRedirect(t, admin.Post(openaiModels+"/custom", form), openaiModels)
		entries, _, _ := a.Store.FindAuditEntries(context.Background(), store.AuditFilter{Action: store.AuditModelCredentialSave})
		if len(entries) != 2 || entries[0].Actor != "alice" || strings.Contains(entries[0].Detail, apptest.StandInKey) {
			t.Fatalf("audit = %+v", entries)
		}
	})

	t.Run("OKProviderCredential", func(t *testing.T) {
		const path = "/models/plugboard/pymodel/pymodel"
		p := admin.Get(path)
		wantStatus(t, p, http.StatusOK)
		if p.Doc.Find(`[data-testid="provider-credential-form"] input[type=password][name=f_api_key]`).Length() != 1 {
			t.Fatalf("no credential form:\n%.1500s", p.Body)
		}
		p = admin.Post(path+"/credential", url.Values{"f_api_key": {wrongKey}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if !strings.Contains(p.TestID("form-error").Text(), "is not valid") {
			t.Fatalf("refusal = %q", p.TestID("form-error").Text())
		}
		noSecret(t, p, wrongKey)
		wantRedirect(t, admin.Post(path+"/credential", url.Values{"f_api_key": {"good"}}), path)
		p = admin.Get(path)
		mask := p.Doc.Find(`input[name=f_api_key]`).AttrOr("value", "")
		if mask != secret.Mask("good") {
			t.Fatalf("saved key shown as %q", mask)
		}
		wantRedirect(t, admin.Post(path+"/credential", url.Values{"f_api_key": {mask}}), path) // the mask keeps "good"
		p = admin.Get("/models")
		if st := p.Doc.Find(`[data-provider="plugboard/pymodel/pymodel"] [data-testid="provider-state"]`).Text(); st != "credential saved" {
			t.Errorf("provider state %q", st)
		}
		if p.Doc.Find(`select[name=default_llm] option[value="plugboard/pymodel|pymodel|echo"]`).Length() != 1 {
			t.Error("pymodel's LLM is not offered as a default once its credential is saved")
		}
	})

	t.Run("OKDefaults", func(t *testing.T) {
		admin.Get("/models")
		p := admin.Post("/models/defaults", url.Values{
			"default_llm":            {"plugboard/openai_compatible|openai_compatible|llama3.1:8b"},
			"default_text-embedding": {"plugboard/demo_model|demo_model|demo-embedding"},
		})
		wantRedirect(t, p, "/models")
		p = admin.Get("/models")
		if v := p.Doc.Find(`select[name=default_llm] option[selected]`).AttrOr("value", ""); v != "plugboard/openai_compatible|openai_compatible|llama3.1:8b" {
			t.Fatalf("default llm = %q", v)
		}
		if p.Doc.Find(`select[name=default_rerank] option[value="plugboard/demo_model|demo_model|demo-rerank"]`).Length() != 1 {
			t.Error("demo-rerank not offered")
		}
		// A model that is not there is refused with a message.
		p = admin.Post("/models/defaults", url.Values{"default_llm": {"plugboard/demo_model|demo_model|nope"},
			"default_text-embedding": {"plugboard/demo_model|demo_model|demo-embedding"}})
		wantRedirect(t, p, "/models")
		if p = admin.Get("/models"); !strings.Contains(p.TestID("flash-error").Text(), "has no llm model") {
			t.Errorf("no refusal shown")
		}
	})

	t.Run("OKChatStream", func(t *testing.T) {
		const llama = "plugboard/openai_compatible|openai_compatible|llama3.1:8b"
		p := admin.Get("/models/chat")
		wantStatus(t, p, http.StatusOK)
		if v := p.Doc.Find(`select[name=model] option[selected]`).AttrOr("value", ""); v != llama {
			t.Fatalf("the default LLM is not preselected: %q", v)
		}
		if p.Doc.Find(`script[src="/static/js/models_chat.js"]`).Length() != 1 {
			t.Error("no chat script")
		}
		p = admin.Post("/models/chat/stream", url.Values{"model": {llama}, "system": {"Be brief."},
			"turns": {`[{"role":"user","text":"Say hello"}]`}})
		wantStatus(t, p, http.StatusOK)
		if ct := p.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Fatalf("content type %q", ct)
		}
		for _, want := range []string{"event: text\ndata: \"Hel\"\n\n", "event: text\ndata: \" world\"\n\n", `event: done` + "\n" + `data: {"chat":"`, `"finish_reason":"stop","total_tokens":14`} {
			if !strings.Contains(p.Body, want) {
				t.Fatalf("stream lacks %q:\n%s", want, p.Body)
			}
		}
		noSecret(t, p, apptest.StandInKey)
		// The demo's parameters come from its parameter rules, typed by them.
		const demo = "plugboard/demo_model|demo_model|demo-chat"
		p = admin.Get("/models/chat")
		fs := p.Doc.Find(`fieldset[data-chat-params="` + demo + `"][hidden][disabled]`)
		if fs.Length() != 1 || fs.Find(`input[type=number][name=p_delay_ms][value="40"][min="0"][max="1000"]`).Length() != 1 {
			t.Fatalf("demo-chat's parameter form:\n%.3000s", p.Body)
		}
		// A parameter its rule refuses ends the stream with the rule's words.
		p = admin.Post("/models/chat/stream", url.Values{"model": {demo}, "p_max_tokens": {"many"},
			"turns": {`[{"role":"user","text":"hi"}]`}})
		if !strings.Contains(p.Body, "event: error\ndata: \"Max tokens must be a whole number.\"") || strings.Contains(p.Body, "event: chat") {
			t.Fatalf("a refused parameter:\n%s", p.Body)
		}
		p = admin.Post("/models/chat/stream", url.Values{"model": {demo}, "p_delay_ms": {"0"}, "p_temperature": {"0.5"},
			"turns": {`[{"role":"user","text":"hi"}]`}})
		if !strings.Contains(p.Body, "event: done") {
			t.Fatalf("demo chat:\n%s", p.Body)
		}
		p = admin.Post("/models/chat/stream", url.Values{"model": {llama}, "turns": {`[]`}})
		if !strings.Contains(p.Body, "event: error\ndata: \"Write a message first.\"") {
			t.Fatalf("empty chat:\n%s", p.Body)
		}
	})

	t.Run("OKChatHistory", func(t *testing.T) {
		const llama = "plugboard/openai_compatible|openai_compatible|llama3.1:8b"
		// The customizable model's parameter form comes from its schema.
		p := admin.Get("/models/chat")
		fs := p.Doc.Find(`fieldset[data-chat-params="` + llama + `"]`)
		if fs.Find(`input[name=p_temperature][max="1"]`).Length() != 1 || fs.Find(`input[name=p_max_tokens]`).Length() != 1 {
			t.Fatalf("llama's parameter form:\n%.3000s", p.Body)
		}
		p = admin.Get("/models/chats")
		wantStatus(t, p, http.StatusOK)
		rows := p.TestID("chat-row")
		if rows.Length() < 2 || p.TestID("chats-user").Length() != 1 {
			t.Fatalf("the history lists %d chats:\n%.3000s", rows.Length(), p.Body)
		}
		id := rows.Last().AttrOr("data-chat", "")
		if got := rows.Last().Find(`[data-testid=chat-latency]`).Text(); !strings.Contains(got, "first token") {
			t.Errorf("latency %q", got)
		}
		p = admin.Get("/models/chats/" + id)
		wantStatus(t, p, http.StatusOK)
		if p.TestID("chat-view-text").First().Text() != "Hello world" || p.TestID("chat-view-system").Text() != "Be brief." {
			t.Fatalf("the chat:\n%.3000s", p.Body)
		}
		noSecret(t, p, apptest.StandInKey)
		p = admin.Get("/models/chat?chat=" + id)
		if p.TestID("chat-id").AttrOr("value", "") != id || p.TestID("chat-turn").Length() != 2 || p.TestID("input-chat-system").Text() != "Be brief." {
			t.Fatalf("continuing the chat:\n%.3000s", p.Body)
		}
		p = admin.Get("/models/chat?chat=" + id + "&from=1")
		if p.TestID("chat-id").AttrOr("value", "x") != "" || p.TestID("chat-turn").Length() != 0 || p.TestID("input-chat-message").Text() != "Say hello" {
			t.Fatalf("re-running the first turn:\n%.3000s", p.Body)
		}
		wantStatus(t, admin.Get("/models/chat?chat="+id+"&from=none"), http.StatusUnprocessableEntity)
		wantStatus(t, admin.Get("/models/chat?chat="+id+"&from=9"), http.StatusNotFound)
		// A member sees none of it.
		member := a.NewBrowser(t)
		member.MustLogin("bob")
		if p := member.Get("/models/chats"); p.TestID("chat-row").Length() != 0 || p.TestID("chats-user").Length() != 0 {
			t.Fatalf("bob's history:\n%.3000s", p.Body)
		}
		wantStatus(t, member.Get("/models/chats/"+id), http.StatusNotFound)
		wantStatus(t, member.Post("/models/chats/"+id+"/delete", url.Values{}), http.StatusNotFound)
		wantRedirect(t, admin.Post("/models/chats/"+id+"/delete", url.Values{}), "/models/chats")
		wantStatus(t, admin.Get("/models/chats/"+id), http.StatusNotFound)
	})

	t.Run("OKMemberViewsOnly", func(t *testing.T) {
		member := a.NewBrowser(t)
		member.MustLogin("bob")
		p := member.Get("/models")
		wantStatus(t, p, http.StatusOK)
		if p.TestID("nav-models").Length() != 1 || p.TestID("save-defaults").Length() != 0 || p.TestID("manage-models").Length() != 0 {
			t.Fatalf("member's page:\n%.1500s", p.Body)
		}
		if v := p.Doc.Find(`[data-type="llm"] [data-testid="default-value"]`).Text(); !strings.Contains(v, "llama3.1:8b") {
			t.Errorf("member sees default llm %q", v)
		}
		wantStatus(t, member.Get(openaiModels), http.StatusForbidden)
		wantStatus(t, member.Post("/models/defaults", url.Values{"default_llm": {""}}), http.StatusForbidden)
	})

	t.Run("OKDeleteCustomModelClearsDefault", func(t *testing.T) {
		admin.Get(openaiModels)
		p := admin.Post(openaiModels+"/custom/delete", url.Values{"model_type": {"llm"}, "model": {"llama3.1:8b"}})
		wantRedirect(t, p, openaiModels)
		defs, _ := a.Store.DefaultModels(context.Background())
		if _, ok := defs[plugboard.ModelLLM]; ok {
			t.Fatalf("default llm kept: %+v", defs)
		}
	})

	if strings.Contains(a.Logs.String(), apptest.StandInKey) {
		t.Error("the logs hold the key")
	}
}
