package models_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/apptest"
	"github.com/plugboard/plugboard/app/models"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
)

const (
	demoID   = "plugboard/demo_model"
	openaiID = "plugboard/openai_compatible"
)

// Env is the service on a fresh store, over a real daemon running both
// model examples, and a stand-in OpenAI server.
type Env struct {
	Svc     *models.Service
	Store   *store.DB
	Daemon  *client.Client
	StandIn string // its base URL, with /v1
}

func MustEnv(tb testing.TB) *Env {
	tb.Helper()
	if testing.Short() {
		tb.Skip("builds and runs the model examples under a daemon")
	}
	cl := apptest.MustDaemon(tb)
	apptest.MustInstallExample(tb, cl, "demo_model")
	apptest.MustInstallExample(tb, cl, "openai_compatible")
	db := apptest.MustStore(tb)
	dir := tb.TempDir()
	keys, err := secret.Open(context.Background(), filepath.Join(dir), "", db)
	if err != nil {
		tb.Fatal(err)
	}
	svc := models.New(models.Config{Store: db, Daemon: cl, Keys: keys, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return &Env{Svc: svc, Store: db, Daemon: cl, StandIn: apptest.OpenAIStandIn(tb).URL + "/v1"}
}

func mustProvider(tb testing.TB, env *Env, pluginID, name string) *models.Provider {
	tb.Helper()
	p, err := env.Svc.Provider(context.Background(), pluginID, name)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestModels(t *testing.T) {
	env := MustEnv(t)
	ctx := context.Background()

	t.Run("OKProviders", func(t *testing.T) {
		list, err := env.Svc.Providers(ctx)
		if err != nil || len(list) != 2 {
			t.Fatalf("Providers = %d, %v", len(list), err)
		}
		demo := list[0]
		if demo.PluginID != demoID || !demo.Ready() || !demo.Predefined() || demo.Customizable() ||
			len(demo.Decl.ModelsOf(plugboard.ModelLLM)) != 1 {
			t.Fatalf("demo provider %+v", demo)
		}
		oc := list[1]
		if oc.PluginID != openaiID || !oc.Customizable() || oc.ModelSchema() == nil {
			t.Fatalf("openai_compatible provider %+v", oc)
		}
		refs := models.Models(list, plugboard.ModelLLM)
		if len(refs) != 1 || refs[0].Model != "demo-chat" {
			t.Fatalf("LLMs = %+v", refs)
		}
	})

	t.Run("OKProviderCredentialWithoutFields", func(t *testing.T) {
		c, err := env.Svc.SaveProviderCredential(ctx, "alice", mustProvider(t, env, demoID, "demo_model"), nil)
		if err != nil || c.Customizable() {
			t.Fatalf("save = %+v, %v", c, err)
		}
	})

	t.Run("OKCustomizableModel", func(t *testing.T) {
		p := mustProvider(t, env, openaiID, "openai_compatible")
		raw := map[string]string{"endpoint_url": env.StandIn, "api_key": apptest.StandInKey, "context_size": "8192",
			"function_calling_type": "tool_call", "vision_support": "on", "rerank_endpoint_url": "http://hidden.example"}
		c, err := env.Svc.SaveCustomModel(ctx, "alice", p, plugboard.ModelLLM, "llama3.1:8b", raw)
		if err != nil {
			t.Fatal(err)
		}
		if c.Masked["api_key"] != secret.Mask(apptest.StandInKey) || c.Values["vision_support"] != "true" || c.Values["context_size"] != "8192" {
			t.Fatalf("saved %+v", c)
		}
		if _, ok := c.Values["rerank_endpoint_url"]; ok {
			t.Fatal("a field shown only for rerank models was saved for an LLM")
		}
		// Saved again with the mask sent back: the stored key is kept (the
		// plugin validates with it, so a lost key would be refused).
		raw["api_key"] = c.Masked["api_key"]
		raw["context_size"] = "4096"
		if _, err := env.Svc.SaveCustomModel(ctx, "bob", mustProvider(t, env, openaiID, "openai_compatible"), plugboard.ModelLLM, "llama3.1:8b", raw); err != nil {
			t.Fatalf("resave with the mask: %v", err)
		}
		r, err := env.Svc.Credentials(ctx, openaiID, "openai_compatible", plugboard.ModelLLM, "llama3.1:8b")
		if err != nil || r.Credentials["api_key"] != apptest.StandInKey || r.Credentials["context_size"] != "4096" ||
			len(r.Secrets) != 1 || r.Declaration != nil {
			t.Fatalf("Credentials = %+v, %v", r, err)
		}
		refs := models.Models([]*models.Provider{mustProvider(t, env, openaiID, "openai_compatible")}, plugboard.ModelLLM)
		if len(refs) != 1 || refs[0].Model != "llama3.1:8b" {
			t.Fatalf("LLMs = %+v", refs)
		}
	})

	t.Run("OKChatStreams", func(t *testing.T) {
		var pieces []string
		res, err := env.Svc.Chat(ctx, "alice", models.ChatRequest{
			Model:  models.ModelRef{PluginID: openaiID, Provider: "openai_compatible", Model: "llama3.1:8b"},
			System: "Be brief.", Turns: []models.ChatTurn{{Role: "user", Text: "Say hello"}},
		}, func(s string) error { pieces = append(pieces, s); return nil })
		if err != nil || res.Text != "Hello world" || len(pieces) != 3 || res.FinishReason != "stop" || res.Usage == nil || res.Usage.TotalTokens != 14 {
			t.Fatalf("chat = %+v (pieces %q), %v", res, pieces, err)
		}
		pieces = nil
		res, err = env.Svc.Chat(ctx, "alice", models.ChatRequest{
			Model:      models.ModelRef{PluginID: demoID, Provider: "demo_model", Model: "demo-chat"},
			Turns:      []models.ChatTurn{{Role: "user", Text: "hi"}, {Role: "assistant", Text: "hello"}, {Role: "user", Text: "again"}},
			Parameters: map[string]any{"delay_ms": 0},
		}, func(s string) error { pieces = append(pieces, s); return nil })
		if err != nil || res.Text == "" || len(pieces) < 2 {
			t.Fatalf("demo chat = %+v (pieces %q), %v", res, pieces, err)
		}
		_, err = env.Svc.Chat(ctx, "alice", models.ChatRequest{Model: models.ModelRef{PluginID: demoID, Provider: "demo_model", Model: "demo-chat"}},
			func(string) error { return nil })
		if plugboard.ErrorCode(err) != plugboard.EINVALID {
			t.Fatalf("a chat without a message = %v", err)
		}
	})

	t.Run("ErrPluginRefusesKeyMasked", func(t *testing.T) {
		p := mustProvider(t, env, openaiID, "openai_compatible")
		wrong := "sk-wrong-Sup3rSecret-key"
		_, err := env.Svc.SaveCustomModel(ctx, "alice", p, plugboard.ModelLLM, "other", map[string]string{
			"endpoint_url": env.StandIn, "api_key": wrong, "context_size": "4096"})
		msg := plugboard.ErrorMessage(err)
		if plugboard.ErrorCode(err) != plugboard.EINVALID || !strings.Contains(msg, "Incorrect API key provided") || strings.Contains(msg, wrong) {
			t.Fatalf("refusal = %v", err)
		}
		if _, err := env.Svc.Credentials(ctx, openaiID, "openai_compatible", plugboard.ModelLLM, "other"); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("a refused model was saved: %v", err)
		}
	})

	t.Run("ErrFields", func(t *testing.T) {
		p := mustProvider(t, env, openaiID, "openai_compatible")
		_, err := env.Svc.SaveCustomModel(ctx, "alice", p, plugboard.ModelTTS, "", map[string]string{"function_calling_type": "nope"})
		fe, ok := err.(models.FieldErrors)
		if !ok || fe[models.ModelField] == "" || fe[models.ModelTypeField] == "" || fe["endpoint_url"] == "" || fe["context_size"] == "" {
			t.Fatalf("field errors = %#v", err)
		}
		if _, shown := fe["function_calling_type"]; shown {
			t.Fatal("a field shown only for LLMs was checked for a TTS model")
		}
		if plugboard.ErrorCode(err) != plugboard.EINVALID {
			t.Fatalf("code = %s", plugboard.ErrorCode(err))
		}
	})

	t.Run("OKDefaults", func(t *testing.T) {
		set := func(ref models.ModelRef) error { return env.Svc.SetDefault(ctx, "alice", ref) }
		if err := set(models.ModelRef{PluginID: demoID, Provider: "demo_model", ModelType: plugboard.ModelLLM, Model: "demo-chat"}); err != nil {
			t.Fatal(err)
		}
		if err := set(models.ModelRef{PluginID: openaiID, Provider: "openai_compatible", ModelType: plugboard.ModelLLM, Model: "llama3.1:8b"}); err != nil {
			t.Fatal(err)
		}
		r, err := env.Svc.Default(ctx, plugboard.ModelLLM)
		if err != nil || r.Model != "llama3.1:8b" || r.Credentials["endpoint_url"] != env.StandIn {
			t.Fatalf("Default(llm) = %+v, %v", r, err)
		}
		if err := set(models.ModelRef{PluginID: demoID, Provider: "demo_model", ModelType: plugboard.ModelRerank, Model: "nope"}); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("a default that does not exist = %v", err)
		}
		if err := set(models.ModelRef{ModelType: plugboard.ModelModeration, Model: "x"}); plugboard.ErrorCode(err) != plugboard.EINVALID {
			t.Fatalf("a moderation default = %v", err)
		}
		if _, err := env.Svc.Default(ctx, plugboard.ModelTTS); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("Default(tts) = %v", err)
		}
		// Deleting the customizable model clears the default.
		if err := env.Svc.DeleteCredential(ctx, "alice", mustProvider(t, env, openaiID, "openai_compatible"), plugboard.ModelLLM, "llama3.1:8b"); err != nil {
			t.Fatal(err)
		}
		if _, err := env.Svc.Default(ctx, plugboard.ModelLLM); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("Default(llm) after delete = %v", err)
		}
	})
}

func TestParseFields(t *testing.T) {
	def := func(s string) *string { return &s }
	schema := []plugboard.CredentialFormSchema{
		{Variable: "mode", Type: plugboard.FormRadio, Required: true, Default: def("cloud"),
			Options: []plugboard.FormOption{{Value: "cloud"}, {Value: "local"}}},
		{Variable: "key", Type: plugboard.FormSecretInput, Required: true, ShowOn: []plugboard.ShowOn{{Variable: "mode", Value: "cloud"}}},
		{Variable: "url", Type: plugboard.FormTextInput, Required: true, MaxLength: 20, ShowOn: []plugboard.ShowOn{{Variable: "mode", Value: "local"}}},
	}
	t.Run("OKHiddenNotRequired", func(t *testing.T) {
		values, secrets, errs := models.ParseFields(schema, "llm", map[string]string{"mode": "local", "url": " http://x ", "key": "ignored"}, nil)
		if len(errs) != 0 || values["url"] != "http://x" || len(secrets) != 0 {
			t.Fatalf("%v %v %v", values, secrets, errs)
		}
	})
	t.Run("OKMaskKeepsStored", func(t *testing.T) {
		_, secrets, errs := models.ParseFields(schema, "llm", map[string]string{"mode": "cloud", "key": secret.Mask("stored-secret-1")}, map[string]any{"key": "stored-secret-1"})
		if len(errs) != 0 || secrets["key"] != "stored-secret-1" {
			t.Fatalf("%v %v", secrets, errs)
		}
	})
	t.Run("Errs", func(t *testing.T) {
		_, _, errs := models.ParseFields(schema, "llm", map[string]string{"mode": "local", "url": strings.Repeat("x", 21)}, nil)
		if !strings.Contains(errs["url"], "at most 20") {
			t.Fatalf("%v", errs)
		}
		_, _, errs = models.ParseFields(schema, "llm", map[string]string{"mode": "mars"}, nil)
		if !strings.Contains(errs["mode"], "not one of the choices") {
			t.Fatalf("%v", errs)
		}
		_, _, errs = models.ParseFields(schema, "llm", map[string]string{}, nil)
		if errs["key"] == "" {
			t.Fatalf("the default shows the secret, which is required: %v", errs)
		}
	})
}

// TestProviderCredential saves a provider's credential through the
// daemon's test plugin pymodel, which accepts api_key "good" and refuses
// others quoting the key.
func TestProviderCredential(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a Python plugin under a daemon")
	}
	ctx := context.Background()
	cl := apptest.MustDaemon(t)
	apptest.MustInstallDir(t, cl, "daemon/api/testdata/pymodel")
	db := apptest.MustStore(t)
	keys, err := secret.Open(ctx, t.TempDir(), "", db)
	if err != nil {
		t.Fatal(err)
	}
	svc := models.New(models.Config{Store: db, Daemon: cl, Keys: keys})
	const id = "plugboard/pymodel"
	p, err := svc.Provider(ctx, id, "pymodel")
	if err != nil || p.Ready() || len(p.CredentialSchema()) != 1 {
		t.Fatalf("pymodel = %+v, %v", p, err)
	}
	if _, err := svc.Credentials(ctx, id, "pymodel", plugboard.ModelLLM, "echo"); plugboard.ErrorCode(err) != plugboard.EINVALID ||
		!strings.Contains(err.Error(), "needs its credential") {
		t.Fatalf("Credentials before saving = %v", err)
	}
	wrong := "bad-Sup3rSecret-key"
	_, err = svc.SaveProviderCredential(ctx, "alice", p, map[string]string{"api_key": wrong})
	if msg := plugboard.ErrorMessage(err); !strings.Contains(msg, "is not valid") || strings.Contains(msg, wrong) {
		t.Fatalf("refusal = %q", msg)
	}
	if _, err := svc.SaveProviderCredential(ctx, "alice", p, map[string]string{"api_key": "good"}); err != nil {
		t.Fatal(err)
	}
	r, err := svc.Credentials(ctx, id, "pymodel", plugboard.ModelLLM, "echo")
	if err != nil || r.Credentials["api_key"] != "good" || r.Declaration == nil {
		t.Fatalf("Credentials = %+v, %v", r, err)
	}
	if p, _ = svc.Provider(ctx, id, "pymodel"); !p.Ready() {
		t.Fatal("not ready with its credential saved")
	}
}
