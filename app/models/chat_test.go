package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/apptest"
	"github.com/plugboard/plugboard/app/models"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/store"
)

var (
	demoChat   = models.ModelRef{PluginID: demoID, Provider: "demo_model", ModelType: plugboard.ModelLLM, Model: "demo-chat"}
	customChat = models.ModelRef{PluginID: openaiID, Provider: "openai_compatible", ModelType: plugboard.ModelLLM, Model: "llama3.1:8b"}
)

// mustCustomModel saves llama3.1:8b at the stand-in server, its answers
// capped at 1000 tokens, priced 2 and 8 USD per million tokens in and out.
func mustCustomModel(tb testing.TB, env *Env) {
	tb.Helper()
	raw := map[string]string{"endpoint_url": env.StandIn, "api_key": apptest.StandInKey, "context_size": "8192", "max_tokens_to_sample": "1000",
		"input_price": "2", "output_price": "8"}
	if _, err := env.Svc.SaveCustomModel(context.Background(), "alice", mustProvider(tb, env, openaiID, "openai_compatible"), plugboard.ModelLLM, customChat.Model, raw); err != nil {
		tb.Fatal(err)
	}
}

func TestChatHistory(t *testing.T) {
	env := MustEnv(t)
	ctx := context.Background()
	alice := apptest.MustUser(t, env.Store, "alice", store.RoleMember)
	bob := apptest.MustUser(t, env.Store, "bob", store.RoleMember)
	admin := apptest.MustUser(t, env.Store, "root", store.RoleAdmin)
	mustCustomModel(t, env)
	say := func(req models.ChatRequest) (*models.ChatResult, error) {
		return env.Svc.Chat(ctx, req.User.Username, req, func(string) error { return nil })
	}

	var chatID string
	t.Run("OKRecordedWithPriceAndLatency", func(t *testing.T) {
		var told string
		res, err := say(models.ChatRequest{Model: demoChat, System: "Be brief.", User: alice, Turns: []models.ChatTurn{{Role: "user", Text: "hello there"}},
			RawParameters: map[string]string{"delay_ms": "0", "temperature": "0.3"}, OnChat: func(id string) error { told = id; return nil }})
		if err != nil {
			t.Fatal(err)
		}
		// The demo is declared free: its price is computed from the
		// declaration, not left unknown.
		if res.ChatID == "" || told != res.ChatID || res.Price == nil || res.Price.Total != "0" || res.Price.Currency != "USD" || !res.Price.Computed {
			t.Fatalf("result %+v price %+v (told %q)", res, res.Price, told)
		}
		if res.First <= 0 || res.Took < res.First || res.Parameters["delay_ms"] != int64(0) || res.Parameters["temperature"] != 0.3 {
			t.Fatalf("latency %v/%v, parameters %v", res.First, res.Took, res.Parameters)
		}
		chatID = res.ChatID
		// The second turn goes on in the same chat.
		if _, err := say(models.ChatRequest{Model: demoChat, System: "Be brief.", User: alice, ChatID: chatID, RawParameters: map[string]string{"delay_ms": "0"},
			Turns: []models.ChatTurn{{Role: "user", Text: "hello there"}, {Role: "assistant", Text: res.Text}, {Role: "user", Text: "and again"}}}); err != nil {
			t.Fatal(err)
		}
		c, turns, err := env.Svc.FindChat(ctx, alice, chatID)
		if err != nil || c.Turns != 2 || c.System != "Be brief." || c.TotalPrice != "0" || c.LastTook <= 0 || len(turns) != 2 {
			t.Fatalf("chat %+v, %d turns, %v", c, len(turns), err)
		}
		if t0 := turns[0]; t0.Message != "hello there" || t0.Answer != res.Text || t0.Status != store.ChatDone || t0.FinishReason != "stop" ||
			t0.TotalTokens == 0 || t0.Params["temperature"] != 0.3 || t0.First <= 0 {
			t.Fatalf("first turn %+v", t0)
		}
		r, err := env.Svc.Resume(ctx, alice, chatID, 0)
		if err != nil || r.ChatID != chatID || r.Model.Key() != demoChat.Key() || r.System != "Be brief." || len(r.Turns) != 4 ||
			r.Turns[2].Text != "and again" || r.Parameters["delay_ms"] != 0.0 {
			t.Fatalf("resume %+v, %v", r, err)
		}
		// Re-running the second turn: the first as context, a new chat.
		if r, err := env.Svc.Resume(ctx, alice, chatID, 2); err != nil || r.ChatID != "" || len(r.Turns) != 2 || r.Message != "and again" {
			t.Fatalf("re-run %+v, %v", r, err)
		}
		if _, err := env.Svc.Resume(ctx, alice, chatID, 3); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("re-run of no turn: %v", err)
		}
	})

	t.Run("ErrOthersChats", func(t *testing.T) {
		if _, _, err := env.Svc.FindChat(ctx, bob, chatID); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("bob opens alice's chat: %v", err)
		}
		_, err := say(models.ChatRequest{Model: demoChat, User: bob, ChatID: chatID, Turns: []models.ChatTurn{{Role: "user", Text: "mine now"}}})
		if plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("bob adds to alice's chat: %v", err)
		}
		if err := env.Svc.DeleteChat(ctx, bob, chatID); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("bob deletes alice's chat: %v", err)
		}
		if _, err := env.Svc.Resume(ctx, bob, chatID, 0); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("bob resumes alice's chat: %v", err)
		}
		if r, err := env.Svc.Resume(ctx, admin, chatID, 0); err != nil || r.ChatID != "" || len(r.Turns) != 4 {
			t.Fatalf("an admin resuming alice's chat starts a new one: %+v, %v", r, err)
		}
		if l, err := env.Svc.Chats(ctx, bob, store.ChatFilter{}); err != nil || l.Total != 0 || l.All {
			t.Fatalf("bob's history %+v, %v", l, err)
		}
		if l, err := env.Svc.Chats(ctx, admin, store.ChatFilter{}); err != nil || l.Total != 1 || !l.All || len(l.Users) != 1 {
			t.Fatalf("the admin's history %+v, %v", l, err)
		}
	})

	t.Run("OKCustomizableModelSchemaAndSecretsRedacted", func(t *testing.T) {
		d, err := env.Svc.Schema(ctx, "alice", customChat)
		if err != nil || d == nil {
			t.Fatalf("schema %+v, %v", d, err)
		}
		var maxTokens *plugboard.ParameterRule
		for i, r := range d.ParameterRules {
			if r.Name == "max_tokens" {
				maxTokens = &d.ParameterRules[i]
			}
		}
		if len(d.ParameterRules) != 5 || maxTokens == nil || maxTokens.Max == nil || *maxTokens.Max != 1000 || maxTokens.Type != plugboard.RuleInt {
			t.Fatalf("rules %+v", d.ParameterRules)
		}
		_, err = say(models.ChatRequest{Model: customChat, User: alice, Turns: []models.ChatTurn{{Role: "user", Text: "hi"}},
			RawParameters: map[string]string{"max_tokens": "5000"}})
		if plugboard.ErrorCode(err) != plugboard.EINVALID || !strings.Contains(err.Error(), "between 1 and 1000") {
			t.Fatalf("max_tokens over the schema's bound = %v", err)
		}
		res, err := say(models.ChatRequest{Model: customChat, User: alice, System: "key " + apptest.StandInKey,
			Turns:         []models.ChatTurn{{Role: "user", Text: "my key is " + apptest.StandInKey}},
			RawParameters: map[string]string{"max_tokens": "64", "temperature": "0.5"}})
		if err != nil || res.Text != "Hello world" || res.Parameters["max_tokens"] != int64(64) {
			t.Fatalf("chat %+v, %v", res, err)
		}
		// The plugin prices nothing; the schema's pricing prices the
		// stand-in's usage (11 tokens in, 3 out).
		if p := res.Price; p == nil || p.Total != "0.000046" || p.Currency != "USD" || !p.Computed {
			t.Fatalf("price %+v", res.Price)
		}
		c, turns, err := env.Svc.FindChat(ctx, alice, res.ChatID)
		if err != nil || strings.Contains(c.System, apptest.StandInKey) || strings.Contains(turns[0].Message, apptest.StandInKey) ||
			!strings.Contains(turns[0].Message, "[redacted]") || c.TotalPrice != "0.000046" || turns[0].Price != "0.000046" || turns[0].TotalTokens != 14 {
			t.Fatalf("recorded %+v %+v, %v", c, turns, err)
		}
	})

	t.Run("OKStopReachesThePlugin", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var id string
		_, err := env.Svc.Chat(cctx, "alice", models.ChatRequest{Model: demoChat, User: alice,
			Turns:         []models.ChatTurn{{Role: "user", Text: "one two three four five six seven eight nine ten"}},
			RawParameters: map[string]string{"delay_ms": "1000"}, OnChat: func(s string) error { id = s; return nil }},
			func(string) error { cancel(); return nil })
		if err == nil {
			t.Fatal("a stopped chat ended without an error")
		}
		_, turns, err := env.Svc.FindChat(ctx, alice, id)
		if err != nil || len(turns) != 1 || turns[0].Status != store.ChatStopped || turns[0].Answer == "" {
			t.Fatalf("stopped turn %+v, %v", turns, err)
		}
		// The plugin's SDK logs each cancel it receives.
		waitCtx, done := context.WithTimeout(ctx, 2*time.Minute)
		defer done()
		for {
			logs, err := env.Daemon.PluginLogs(waitCtx, demoID, 200)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range logs {
				if strings.Contains(l.Message, "cancelled session") {
					return
				}
			}
			select {
			case <-waitCtx.Done():
				t.Fatalf("the plugin never logged the cancel: %+v", logs)
			case <-time.After(50 * time.Millisecond):
			}
		}
	})

	t.Run("OKCallerGoneBeforeTheAnswer", func(t *testing.T) {
		var id string
		_, err := env.Svc.Chat(ctx, "alice", models.ChatRequest{Model: demoChat, User: alice, Turns: []models.ChatTurn{{Role: "user", Text: "anyone?"}},
			OnChat: func(s string) error { id = s; return errors.New("the client left") }}, func(string) error { t.Error("an answer was sent"); return nil })
		if err == nil {
			t.Fatal("no error")
		}
		_, turns, err := env.Svc.FindChat(ctx, alice, id)
		if err != nil || len(turns) != 1 || turns[0].Status != store.ChatStopped || turns[0].Message != "anyone?" {
			t.Fatalf("the chat of a caller gone: %+v, %v", turns, err)
		}
	})

	t.Run("OKDelete", func(t *testing.T) {
		if err := env.Svc.DeleteChat(ctx, admin, chatID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := env.Svc.FindChat(ctx, alice, chatID); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("a deleted chat = %v", err)
		}
	})
}

func TestPriceOf(t *testing.T) {
	out := "8"
	pricing := &plugboard.Pricing{Input: "2", Output: &out, Unit: "0.000001", Currency: "USD"}
	usage := &protocol.LLMUsage{PromptTokens: 120, CompletionTokens: 18, TotalPrice: "0", Currency: "USD"}
	if p := models.PriceOf(pricing, usage); p == nil || p.Total != "0.000384" || p.Currency != "USD" || !p.Computed {
		t.Errorf("computed %+v", p)
	}
	plugins := &protocol.LLMUsage{PromptTokens: 120, CompletionTokens: 18, TotalPrice: "0.0005", Currency: "EUR"}
	if p := models.PriceOf(pricing, plugins); p == nil || p.Total != "0.0005" || p.Currency != "EUR" || p.Computed {
		t.Errorf("the plugin's %+v", p)
	}
	if p := models.PriceOf(nil, usage); p != nil {
		t.Errorf("no pricing, no plugin price = %+v", p)
	}
	if p := models.PriceOf(pricing, nil); p != nil {
		t.Errorf("no usage = %+v", p)
	}
	if p := models.PriceOf(&plugboard.Pricing{Input: "x", Unit: "1"}, usage); p != nil {
		t.Errorf("a broken pricing = %+v", p)
	}
}

func TestParseParameters(t *testing.T) {
	lo, hi, prec := 0.0, 1.0, 2
	rules := []plugboard.ParameterRule{
		{Name: "temperature", Type: plugboard.RuleFloat, Min: &lo, Max: &hi, Precision: &prec},
		{Name: "max_tokens", Type: plugboard.RuleInt},
		{Name: "stream", Type: plugboard.RuleBoolean},
		{Name: "format", Type: plugboard.RuleString, Options: []string{"text", "json"}},
	}
	got, err := models.ParseParameters(rules, map[string]string{"temperature": " 0.5 ", "max_tokens": "12", "stream": "true", "format": "", "other": "x"})
	if err != nil || len(got) != 3 || got["temperature"] != 0.5 || got["max_tokens"] != int64(12) || got["stream"] != true {
		t.Fatalf("parsed %v, %v", got, err)
	}
	for name, raw := range map[string]map[string]string{
		"ErrRange":  {"temperature": "1.5"},
		"ErrInt":    {"max_tokens": "1.5"},
		"ErrNumber": {"temperature": "warm"},
		"ErrOption": {"format": "xml"},
	} {
		if _, err := models.ParseParameters(rules, raw); plugboard.ErrorCode(err) != plugboard.EINVALID {
			t.Errorf("%s: %v", name, err)
		}
	}
}
