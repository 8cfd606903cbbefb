package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/sdk"
)

// testLLM streams "Hel", "lo", or asks for the first tool it is offered.
type testLLM struct{}

func (testLLM) InvokeLLM(ctx context.Context, req *sdk.LLMRequest, w *sdk.LLMWriter) error {
	switch req.Model {
	case "unfinished":
		return w.Text("four")
	case "limited":
		return sdk.InvokeErrorForStatus(429, "slow down")
	case "broken":
		return errors.New("upstream said no")
	}
	if len(req.Tools) > 0 {
		call, err := sdk.NewToolCall("call_1", req.Tools[0].Name, map[string]any{"city": "Paris"})
		if err != nil {
			return err
		}
		if err := w.ToolCalls(call); err != nil {
			return err
		}
		return w.Finish(sdk.FinishToolCalls, sdk.LLMUsage{PromptTokens: 7, CompletionTokens: 5, Latency: 0.25})
	}
	for _, piece := range []string{"Hel", "lo"} {
		if err := w.Text(piece); err != nil {
			return err
		}
	}
	return w.Finish("", sdk.LLMUsage{PromptTokens: 3, CompletionTokens: 2, Latency: 0.25})
}

// CustomizableModelSchema describes every model as a chat LLM with a
// temperature; the model "none" has no schema.
func (testLLM) CustomizableModelSchema(ctx context.Context, req *sdk.ModelRequest) (*sdk.ModelSchema, error) {
	if req.Model == "none" {
		return nil, nil
	}
	return &sdk.ModelSchema{
		Features:        []string{plugboard.FeatureToolCall},
		ModelProperties: map[string]any{"mode": "chat", "context_size": 8192},
		ParameterRules:  []sdk.ParameterRule{{Name: "temperature", UseTemplate: "temperature"}},
	}, nil
}

// ValidateModelCredentials wants an api_key and trims it.
func (testLLM) ValidateModelCredentials(ctx context.Context, req *sdk.ModelRequest) error {
	key := strings.TrimSpace(req.Credentials.String("api_key"))
	if key == "" {
		return errors.New("api_key is required")
	}
	req.Credentials["api_key"] = key
	return nil
}

type testEmbedding struct{}

func (testEmbedding) EmbedTexts(ctx context.Context, req *sdk.EmbeddingRequest) (*sdk.EmbeddingResult, error) {
	res := &sdk.EmbeddingResult{Usage: sdk.EmbeddingUsage{Tokens: 4, Latency: 0.5}}
	for _, t := range req.Texts {
		res.Embeddings = append(res.Embeddings, []float64{float64(len(t)), 0.5})
	}
	return res, nil
}

type testRerank struct{}

func (testRerank) Rerank(ctx context.Context, req *sdk.RerankRequest) (*sdk.RerankResult, error) {
	res := &sdk.RerankResult{}
	for i, d := range req.Docs {
		res.Docs = append(res.Docs, sdk.RerankDocument{Index: i, Text: d, Score: float64(len(d)) / 10})
	}
	return res, nil
}

type testTTS struct{}

func (testTTS) InvokeTTS(ctx context.Context, req *sdk.TTSRequest, w *sdk.AudioWriter) error {
	w.SetMimeType("audio/wav")
	_, err := io.WriteString(w, req.Voice+":"+req.ContentText)
	return err
}

func (testTTS) TTSVoices(ctx context.Context, req *sdk.TTSVoicesRequest) ([]sdk.Voice, error) {
	return []sdk.Voice{{Name: "Alloy (" + req.Language + ")", Value: "alloy"}}, nil
}

type testSpeech struct{}

func (testSpeech) Transcribe(ctx context.Context, req *sdk.Speech2TextRequest) (string, error) {
	return "heard " + string(req.Audio), nil
}

type testModeration struct{}

func (testModeration) Moderate(ctx context.Context, req *sdk.ModerationRequest) (bool, error) {
	return strings.Contains(req.Text, "bad"), nil
}

// testCategorizer flags "bad" as insult, and answers Moderate never: the
// SDK prefers ModerateCategories.
type testCategorizer struct{ testModeration }

func (testCategorizer) Moderate(ctx context.Context, req *sdk.ModerationRequest) (bool, error) {
	return false, errors.New("Moderate called")
}

func (testCategorizer) ModerateCategories(ctx context.Context, req *sdk.ModerationRequest) (*sdk.ModerationVerdict, error) {
	if strings.Contains(req.Text, "bad") {
		return &sdk.ModerationVerdict{Flagged: true, Categories: []string{"insult"}}, nil
	}
	return nil, nil
}

func newModelPlugin() *sdk.Plugin {
	p := sdk.New()
	p.LLM("p", testLLM{})
	p.TextEmbedding("p", testEmbedding{})
	p.Rerank("p", testRerank{})
	p.TTS("p", testTTS{})
	p.Speech2Text("p", testSpeech{})
	p.Moderation("p", testModeration{})
	p.Moderation("q", testCategorizer{})
	p.ValidateProviderCredentials("p", func(ctx context.Context, c sdk.Credentials) error {
		if c.String("api_key") != "good" {
			return errors.New("api_key is not good")
		}
		c["api_key"] = "normalised"
		return nil
	})
	return p
}

// MustModelRequest sends a model request with the given action and data
// fields, flattened as Dify's daemon sends them.
func (c *conn) MustModelRequest(tb testing.TB, session, action string, fields map[string]any) {
	tb.Helper()
	data := map[string]any{"user_id": "u1", "type": "model", "action": action, "provider": "p", "credentials": map[string]any{}}
	for k, v := range fields {
		data[k] = v
	}
	c.MustSend(tb, map[string]any{"session_id": session, "event": "request", "data": data})
}

// wantLines fails unless the session's lines are want, exactly.
func wantLines(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// streamLine is the line of one stream chunk of session s.
func streamLine(s, chunk string) string {
	return `{"event":"session","session_id":"` + s + `","data":{"type":"stream","data":` + chunk + `}}`
}

func endLine(s string) string {
	return `{"event":"session","session_id":"` + s + `","data":{"type":"end","data":{}}}`
}

func llmFields(model string, extra map[string]any) map[string]any {
	f := map[string]any{"model_type": "llm", "model": model, "stream": true,
		"prompt_messages": []any{map[string]any{"role": "user", "content": "Say hello"}}}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

func TestModelLLM(t *testing.T) {
	c := MustServe(t, newModelPlugin())
	t.Run("OKStream", func(t *testing.T) {
		c.MustModelRequest(t, "s1", "invoke_llm", llmFields("m1", nil))
		wantLines(t, c.MustSessionLines(t, "s1"),
			streamLine("s1", `{"model":"m1","delta":{"index":0,"message":{"role":"assistant","content":"Hel"}}}`),
			streamLine("s1", `{"model":"m1","delta":{"index":1,"message":{"role":"assistant","content":"lo"}}}`),
			streamLine("s1", `{"model":"m1","delta":{"index":2,"message":{"role":"assistant","content":""},`+
				`"usage":{"prompt_tokens":3,"prompt_unit_price":"0","prompt_price_unit":"0","prompt_price":"0",`+
				`"completion_tokens":2,"completion_unit_price":"0","completion_price_unit":"0","completion_price":"0",`+
				`"total_tokens":5,"total_price":"0","currency":"USD","latency":0.25},"finish_reason":"stop"}}`),
			endLine("s1"))
	})
	t.Run("OKToolCall", func(t *testing.T) {
		tools := []any{map[string]any{"name": "get_weather", "description": "Weather by city",
			"parameters": map[string]any{"type": "object"}}}
		c.MustModelRequest(t, "s2", "invoke_llm", llmFields("m1", map[string]any{"tools": tools}))
		wantLines(t, c.MustSessionLines(t, "s2"),
			streamLine("s2", `{"model":"m1","delta":{"index":0,"message":{"role":"assistant","content":"",`+
				`"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]}}}`),
			streamLine("s2", `{"model":"m1","delta":{"index":1,"message":{"role":"assistant","content":""},`+
				`"usage":{"prompt_tokens":7,"prompt_unit_price":"0","prompt_price_unit":"0","prompt_price":"0",`+
				`"completion_tokens":5,"completion_unit_price":"0","completion_price_unit":"0","completion_price":"0",`+
				`"total_tokens":12,"total_price":"0","currency":"USD","latency":0.25},"finish_reason":"tool_calls"}}`),
			endLine("s2"))
	})
	t.Run("OKNotStreamedIsOneChunk", func(t *testing.T) {
		c.MustModelRequest(t, "s3", "invoke_llm", llmFields("m1", map[string]any{"stream": false}))
		chunks := llmChunks(t, c.MustSession(t, "s3"))
		if len(chunks) != 1 {
			t.Fatalf("%d chunks, want 1: %+v", len(chunks), chunks)
		}
		d := chunks[0].Delta
		if d.Index != 0 || d.Message.Content.Text != "Hello" || d.FinishReason != "stop" || d.Usage == nil || d.Usage.TotalTokens != 5 {
			t.Fatalf("chunk = %+v", chunks[0])
		}
	})
	t.Run("OKUnfinishedIsFinishedBySDK", func(t *testing.T) {
		c.MustModelRequest(t, "s4", "invoke_llm", llmFields("unfinished", nil))
		chunks := llmChunks(t, c.MustSession(t, "s4"))
		last := chunks[len(chunks)-1].Delta
		if len(chunks) != 2 || last.FinishReason != "stop" || last.Usage == nil ||
			last.Usage.PromptTokens != 3 || last.Usage.CompletionTokens != 1 || last.Usage.Latency <= 0 {
			t.Fatalf("chunks = %+v, last usage %+v", chunks, last.Usage)
		}
	})
	t.Run("OKNumTokensEstimated", func(t *testing.T) {
		c.MustModelRequest(t, "n1", "get_llm_num_tokens", llmFields("m1", nil))
		wantLines(t, c.MustSessionLines(t, "n1"), streamLine("n1", `{"num_tokens":3}`), endLine("n1"))
	})
	t.Run("ErrTypedKeepsTypeAndDescription", func(t *testing.T) {
		c.MustModelRequest(t, "e1", "invoke_llm", llmFields("limited", nil))
		wantLines(t, c.MustSessionLines(t, "e1"),
			`{"event":"session","session_id":"e1","data":{"type":"error","data":{"error_type":"InvokeRateLimitError","message":"slow down","args":{"description":"slow down"}}}}`,
			endLine("e1"))
	})
	t.Run("ErrPlainIsInvokeError", func(t *testing.T) {
		c.MustModelRequest(t, "e2", "invoke_llm", llmFields("broken", nil))
		e := MustError(t, c.MustSession(t, "e2"))
		if e.ErrorType != sdk.ErrTypeInvokeModel || e.Message != "upstream said no" {
			t.Fatalf("error = %+v", e)
		}
	})
	t.Run("ErrBadPromptMessage", func(t *testing.T) {
		c.MustModelRequest(t, "e3", "invoke_llm", llmFields("m1", map[string]any{
			"prompt_messages": []any{map[string]any{"role": "user", "content": 42}}}))
		e := MustError(t, c.MustSession(t, "e3"))
		if e.ErrorType != sdk.ErrTypeInvokeBadRequest || !strings.Contains(e.Message, "the invoke_llm request does not decode: content must be a string or a list") {
			t.Fatalf("error = %+v", e)
		}
	})
	t.Run("ErrUnknownProvider", func(t *testing.T) {
		c.MustModelRequest(t, "e4", "invoke_llm", llmFields("m1", map[string]any{"provider": "other"}))
		e := MustError(t, c.MustSession(t, "e4"))
		if e.ErrorType != sdk.ErrTypeInvokeBadRequest || !strings.Contains(e.Message, `"other"`) {
			t.Fatalf("error = %+v", e)
		}
	})
	t.Run("ErrActionOfAnotherModelType", func(t *testing.T) {
		c.MustModelRequest(t, "e5", "invoke_text_embedding", llmFields("m1", nil))
		e := MustError(t, c.MustSession(t, "e5"))
		if e.ErrorType != sdk.ErrTypeInvokeBadRequest || !strings.Contains(e.Message, "invoke_text_embedding") {
			t.Fatalf("error = %+v", e)
		}
	})
}

func llmChunks(t *testing.T, msgs []protocol.SessionData) []sdk.LLMChunk {
	t.Helper()
	var out []sdk.LLMChunk
	for _, m := range msgs {
		if m.Type == protocol.SessionError {
			t.Fatalf("error frame %s", m.Data)
		}
		if m.Type == protocol.SessionStream {
			out = append(out, MustUnmarshal[sdk.LLMChunk](t, m.Data))
		}
	}
	return out
}

func TestModelOthers(t *testing.T) {
	c := MustServe(t, newModelPlugin())
	for _, tc := range []struct {
		name, action string
		fields       map[string]any
		want         []string // the chunks
	}{
		{"OKEmbedding", "invoke_text_embedding",
			map[string]any{"model_type": "text-embedding", "model": "e1", "texts": []string{"ab", "abcd"}, "input_type": "document"},
			[]string{`{"model":"e1","embeddings":[[2,0.5],[4,0.5]],"usage":{"tokens":4,"total_tokens":4,"unit_price":"0","price_unit":"0","total_price":"0","currency":"USD","latency":0.5}}`}},
		{"OKEmbeddingNumTokens", "get_text_embedding_num_tokens",
			map[string]any{"model_type": "text-embedding", "model": "e1", "texts": []string{"abcdefgh", "a"}},
			[]string{`{"num_tokens":[2,1]}`}},
		{"OKRerankOrderedThresholdTopN", "invoke_rerank",
			map[string]any{"model_type": "rerank", "model": "r1", "query": "q", "docs": []string{"a", "abc", "ab", "abcd"},
				"score_threshold": 0.15, "top_n": 2},
			[]string{`{"model":"r1","docs":[{"index":3,"text":"abcd","score":0.4},{"index":1,"text":"abc","score":0.3}]}`}},
		{"OKRerankTopNZeroIsAll", "invoke_rerank",
			map[string]any{"model_type": "rerank", "model": "r1", "query": "q", "docs": []string{"a", "ab"}, "score_threshold": 0, "top_n": 0},
			[]string{`{"model":"r1","docs":[{"index":1,"text":"ab","score":0.2},{"index":0,"text":"a","score":0.1}]}`}},
		{"OKTTSHexChunks", "invoke_tts",
			map[string]any{"model_type": "tts", "model": "t1", "content_text": "hi", "voice": "alloy", "tenant_id": "t"},
			[]string{`{"result":"616c6c6f793a6869","mime_type":"audio/wav"}`}},
		{"OKTTSVoices", "get_tts_model_voices",
			map[string]any{"model_type": "tts", "model": "t1", "language": "en-US"},
			[]string{`{"voices":[{"name":"Alloy (en-US)","value":"alloy"}]}`}},
		{"OKSpeech2Text", "invoke_speech2text",
			map[string]any{"model_type": "speech2text", "model": "w1", "file": "6869"},
			[]string{`{"result":"heard hi"}`}},
		{"OKModeration", "invoke_moderation",
			map[string]any{"model_type": "moderation", "model": "mod", "text": "a bad word"},
			[]string{`{"result":true}`}},
		{"OKModerationCategories", "invoke_moderation",
			map[string]any{"provider": "q", "model_type": "moderation", "model": "mod", "text": "a bad word"},
			[]string{`{"result":true,"categories":["insult"]}`}},
		{"OKModerationNilVerdictIsNotFlagged", "invoke_moderation",
			map[string]any{"provider": "q", "model_type": "moderation", "model": "mod", "text": "fine"},
			[]string{`{"result":false}`}},
		{"OKProviderCredentialsEchoed", "validate_provider_credentials",
			map[string]any{"credentials": map[string]any{"api_key": "good"}},
			[]string{`{"result":true,"credentials":{"api_key":"normalised"}}`}},
		{"OKModelCredentialsEchoed", "validate_model_credentials",
			map[string]any{"model_type": "llm", "model": "m1", "credentials": map[string]any{"api_key": " k "}},
			[]string{`{"result":true,"credentials":{"api_key":"k"}}`}},
		{"OKModelCredentialsOfModelWithoutValidator", "validate_model_credentials",
			map[string]any{"model_type": "rerank", "model": "r1", "credentials": map[string]any{"x": "y"}},
			[]string{`{"result":true,"credentials":{"x":"y"}}`}},
		{"OKNoSchema", "get_ai_model_schemas",
			map[string]any{"model_type": "llm", "model": "none"},
			[]string{`{"model_schema":null}`}},
		{"OKNoSchemaForModelNotCustomizable", "get_ai_model_schemas",
			map[string]any{"model_type": "rerank", "model": "r1"},
			[]string{`{"model_schema":null}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.MustModelRequest(t, tc.name, tc.action, tc.fields)
			got := c.MustSessionLines(t, tc.name)
			var want []string
			for _, ch := range tc.want {
				want = append(want, streamLine(tc.name, ch))
			}
			wantLines(t, got, append(want, endLine(tc.name))...)
		})
	}
}

func TestModelSchema(t *testing.T) {
	c := MustServe(t, newModelPlugin())
	c.MustModelRequest(t, "sc", "get_ai_model_schemas", map[string]any{"model_type": "llm", "model": "my-llm"})
	msgs := c.MustSession(t, "sc")
	if len(msgs) != 2 || msgs[0].Type != protocol.SessionStream {
		t.Fatalf("messages = %+v", msgs)
	}
	// The declaration type writes the members in its order; compare values.
	got := MustUnmarshal[map[string]any](t, msgs[0].Data)
	schema, _ := got["model_schema"].(map[string]any)
	rules, _ := schema["parameter_rules"].([]any)
	if len(rules) != 1 {
		t.Fatalf("schema = %v", got)
	}
	rule := rules[0].(map[string]any)
	help, _ := rule["help"].(map[string]any)
	delete(rule, "help")
	for k, want := range map[string]any{"model": "my-llm", "model_type": "llm", "fetch_from": "customizable-model",
		"label": map[string]any{"en_US": "my-llm"}, "features": []any{"tool-call"}, "deprecated": false, "pricing": nil,
		"model_properties": map[string]any{"mode": "chat", "context_size": 8192.0}} {
		if !reflect.DeepEqual(schema[k], want) {
			t.Errorf("schema %s = %#v, want %#v", k, schema[k], want)
		}
	}
	wantRule := map[string]any{"name": "temperature", "use_template": "temperature", "type": "float", "required": false,
		"default": 0.0, "min": 0.0, "max": 1.0, "precision": 2.0, "options": []any{},
		"label": map[string]any{"en_US": "Temperature", "zh_Hans": "温度", "ja_JP": "温度", "pt_BR": "Temperatura"}}
	if !reflect.DeepEqual(rule, wantRule) || !strings.HasPrefix(fmt.Sprint(help["en_US"]), "Controls randomness.") {
		t.Fatalf("rule = %#v (help %v)\nwant %#v", rule, help, wantRule)
	}
}

func TestModelErrors(t *testing.T) {
	c := MustServe(t, newModelPlugin())
	for _, tc := range []struct {
		name, action string
		fields       map[string]any
		typ, msg     string
	}{
		{"ErrProviderCredentials", "validate_provider_credentials",
			map[string]any{"credentials": map[string]any{"api_key": "bad"}},
			sdk.ErrTypeCredentialsValidateFailed, "api_key is not good"},
		{"ErrModelCredentials", "validate_model_credentials",
			map[string]any{"model_type": "llm", "model": "m1"},
			sdk.ErrTypeCredentialsValidateFailed, "api_key is required"},
		{"ErrAudioNotHex", "invoke_speech2text",
			map[string]any{"model_type": "speech2text", "model": "w1", "file": "zz"},
			sdk.ErrTypeInvokeBadRequest, "the audio file is not hex"},
		{"ErrUnknownAction", "invoke_everything",
			map[string]any{"model_type": "llm", "model": "m1"},
			sdk.ErrTypeBadRequest, "invoke_everything"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.MustModelRequest(t, tc.name, tc.action, tc.fields)
			e := MustError(t, c.MustSession(t, tc.name))
			args, _ := e.Args.(map[string]any)
			if e.ErrorType != tc.typ || !strings.Contains(e.Message, tc.msg) {
				t.Fatalf("error = %+v, want %s containing %q", e, tc.typ, tc.msg)
			}
			if tc.typ != sdk.ErrTypeBadRequest && args["description"] != e.Message {
				t.Fatalf("args = %v, want the message as description", e.Args)
			}
		})
	}
}

func TestMessageText(t *testing.T) {
	for want, m := range map[string]sdk.PromptMessage{
		"hi": {Role: sdk.RoleUser, Content: sdk.Content{Text: "hi"}},
		"ab": {Role: sdk.RoleUser, Content: sdk.Content{Parts: []sdk.ContentPart{
			{Type: "text", Data: "a"}, {Type: "image", URL: "https://x/a.png"}, {Type: "text", Data: "b"}}}},
	} {
		if got := sdk.MessageText(m); got != want {
			t.Errorf("MessageText(%+v) = %q, want %q", m, got, want)
		}
	}
}

// firstThenWait streams one piece, then waits for release before finishing.
type firstThenWait struct{ release chan struct{} }

func (l firstThenWait) InvokeLLM(ctx context.Context, req *sdk.LLMRequest, w *sdk.LLMWriter) error {
	if err := w.Text("first"); err != nil {
		return err
	}
	<-l.release
	return w.Text(" last")
}

// TestModelLLMPieceNotHeld: a streamed piece goes out at once, even from a
// handler running inline on the reader that is never handed off (its
// other output waits for the end frame, or a heartbeat): the daemon reads the first token
// while the handler still runs.
func TestModelLLMPieceNotHeld(t *testing.T) {
	l := firstThenWait{release: make(chan struct{})}
	p := sdk.New(sdk.WithHandoffDelay(time.Hour), sdk.WithHeartbeatInterval(time.Hour))
	p.LLM("p", l)
	c := MustServe(t, p)
	c.MustModelRequest(t, "s1", "invoke_llm", llmFields("m1", nil))
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				t.Fatal("plugin output ended")
			}
			if ev.Event.Event != protocol.EventSession {
				continue
			}
			if want := streamLine("s1", `{"model":"m1","delta":{"index":0,"message":{"role":"assistant","content":"first"}}}`); ev.line != want {
				t.Fatalf("first line %s, want %s", ev.line, want)
			}
			close(l.release)
			chunks := llmChunks(t, c.MustSession(t, "s1"))
			if len(chunks) != 2 || chunks[0].Delta.Message.Content.Text != " last" || chunks[1].Delta.FinishReason != "stop" {
				t.Fatalf("the rest: %+v", chunks)
			}
			return
		case <-time.After(30 * time.Second):
			t.Fatal("the first piece was held while the handler ran")
		}
	}
}
