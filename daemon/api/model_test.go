package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plugboard/plugboard/daemon/api"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/daemon/protocol"
)

const pymodelID = "plugboard/pymodel"

// pymodel is one daemon with testdata/pymodel installed: a Python model
// provider that checks every request as Dify's SDK does.
var pymodel struct {
	once sync.Once
	d    *daemon
	err  error
}

// MustPymodel returns the daemon with pymodel installed.
func MustPymodel(tb testing.TB) *daemon {
	tb.Helper()
	pymodel.once.Do(func() {
		pymodel.d, pymodel.err = startDaemon(filepath.Join(work, "pymodel"), api.Config{APIKey: testKey})
		if pymodel.err == nil {
			_, pymodel.err = pymodel.d.install(pymodelPackage(tb))
		}
	})
	if pymodel.err != nil {
		tb.Fatal(pymodel.err)
	}
	return pymodel.d
}

// pymodelPackage packs testdata/pymodel.
func pymodelPackage(tb testing.TB) []byte {
	tb.Helper()
	data, _, err := pkgfmt.Pack(os.DirFS("testdata/pymodel"), pkgfmt.DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// llm is the data of an llm/invoke of model asking text.
func llm(model, text string) apispec.ModelData {
	return apispec.ModelData{Provider: "pymodel", Credentials: map[string]any{"api_key": "good"},
		ModelRequest: protocol.ModelRequest{Model: model, PromptMessages: []protocol.PromptMessage{
			{Role: protocol.RoleSystem, Content: protocol.Content{Text: "You are a test."}},
			{Role: protocol.RoleUser, Content: protocol.Content{Parts: []protocol.ContentPart{{Type: protocol.PartText, Data: text}}}},
		}}}
}

// model is the data of a call of model of type modelType.
func model(modelType, name string) apispec.ModelData {
	return apispec.ModelData{Provider: "pymodel", Credentials: map[string]any{"api_key": "good"},
		ModelRequest: protocol.ModelRequest{ModelType: modelType, Model: name}}
}

// readLLM drains an LLM stream.
func readLLM(s *client.LLMStream) ([]*protocol.LLMResultChunk, error) {
	defer s.Close()
	var out []*protocol.LLMResultChunk
	for {
		c, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
}

// TestModelLLM streams LLM answers through the API and the client.
func TestModelLLM(t *testing.T) {
	d := MustPymodel(t)
	ctx := context.Background()
	t.Run("Stream", func(t *testing.T) {
		s, err := d.c.InvokeLLM(ctx, pymodelID, llm("echo", "hello big world"), "u1")
		if err != nil {
			t.Fatal(err)
		}
		chunks, err := readLLM(s)
		if err != nil || len(chunks) != 4 {
			t.Fatalf("%d chunks, %v", len(chunks), err)
		}
		var text strings.Builder
		for i, c := range chunks {
			if c.Delta.Index != i || c.Model != "echo" || c.Delta.Message.Role != protocol.RoleAssistant {
				t.Fatalf("chunk %d = %+v", i, c)
			}
			text.WriteString(c.Delta.Message.Content.Text)
		}
		last := chunks[3].Delta
		if text.String() != "hello big world" || last.FinishReason != "stop" || last.Usage == nil ||
			last.Usage.CompletionTokens != 3 || last.Usage.TotalTokens != 7+3 || last.Usage.TotalPrice != "0.000003" || last.Usage.Currency != "USD" {
			t.Fatalf("text %q, last delta %+v %+v", text.String(), last, last.Usage)
		}
	})
	t.Run("ToolCall", func(t *testing.T) {
		data := llm("tool-call", "Paris")
		data.Tools = []protocol.PromptMessageTool{{Name: "get_weather", Description: "Weather by city",
			Parameters: map[string]any{"type": "object"}}}
		s, err := d.c.InvokeLLM(ctx, pymodelID, data, "u1")
		if err != nil {
			t.Fatal(err)
		}
		chunks, err := readLLM(s)
		if err != nil || len(chunks) != 2 {
			t.Fatalf("%d chunks, %v", len(chunks), err)
		}
		calls := chunks[0].Delta.Message.ToolCalls
		if len(calls) != 1 || calls[0].Function.Name != "get_weather" || calls[0].Function.Arguments != `{"text": "Paris"}` ||
			chunks[1].Delta.FinishReason != "tool_calls" {
			t.Fatalf("tool calls %+v, finish %q", calls, chunks[1].Delta.FinishReason)
		}
	})
	t.Run("ToolTurn", func(t *testing.T) { // assistant tool_calls and the tool's answer, as the SDK validates them
		data := llm("echo", "thanks")
		data.PromptMessages = append(data.PromptMessages,
			protocol.PromptMessage{Role: protocol.RoleAssistant, ToolCalls: []protocol.ToolCall{{ID: "call_1", Type: "function",
				Function: protocol.ToolCallFunction{Name: "get_weather", Arguments: `{"city":"Paris"}`}}}},
			protocol.PromptMessage{Role: protocol.RoleTool, Content: protocol.Content{Text: `{"temp_c":21}`}, ToolCallID: "call_1"},
			protocol.PromptMessage{Role: protocol.RoleUser, Content: protocol.Content{Text: "and now?"}})
		data.Stop = []string{"Observation"}
		data.ModelParameters = map[string]any{"temperature": 0.2}
		s, err := d.c.InvokeLLM(ctx, pymodelID, data, "u1")
		if err != nil {
			t.Fatal(err)
		}
		if chunks, err := readLLM(s); err != nil || len(chunks) != 3 || chunks[0].Delta.Message.Content.Text != "and" {
			t.Fatalf("%d chunks, %v", len(chunks), err)
		}
	})
	t.Run("PromptMessagesAdded", func(t *testing.T) { // as Dify's daemon writes every chunk
		status, body := rawPost(t, d, "dispatch/llm/invoke",
			`{"user_id":"u1","data":{"provider":"pymodel","model":"echo","credentials":{},"prompt_messages":[{"role":"user","content":"hi"}],"stream":true}}`,
			modelHeaders())
		if status != http.StatusOK || strings.Count(body, `"prompt_messages":[]`) != 2 || !strings.HasPrefix(body, `data: {"code":0,"message":"success","data":{`) {
			t.Fatalf("status %d: %s", status, body)
		}
	})
	t.Run("NumTokens", func(t *testing.T) {
		data := llm("echo", "one two three")
		data.Tools = []protocol.PromptMessageTool{{Name: "t"}}
		n, err := d.c.LLMNumTokens(ctx, pymodelID, data, "u1")
		if err != nil || n != 4+3+1 { // "You are a test." + the three words + one tool
			t.Fatalf("num tokens = %d, %v", n, err)
		}
	})
}

// TestModelOtherTypes calls every non-LLM route through the client.
func TestModelOtherTypes(t *testing.T) {
	d := MustPymodel(t)
	ctx := context.Background()
	t.Run("TextEmbedding", func(t *testing.T) {
		data := model("", "embed")
		data.Texts, data.InputType = []string{"hello world", "a"}, protocol.InputQuery
		res, err := d.c.InvokeTextEmbedding(ctx, pymodelID, data, "u1")
		if err != nil || len(res.Embeddings) != 2 || res.Embeddings[0][0] != 11 || res.Usage.Tokens != 3 || res.Model != "embed" {
			t.Fatalf("%+v, %v", res, err)
		}
	})
	t.Run("TextEmbeddingNumTokens", func(t *testing.T) {
		data := model("", "embed")
		data.Texts = []string{"hello world", "a b c"}
		n, err := d.c.TextEmbeddingNumTokens(ctx, pymodelID, data, "u1")
		if err != nil || len(n) != 2 || n[0] != 2 || n[1] != 3 {
			t.Fatalf("%v, %v", n, err)
		}
	})
	t.Run("Rerank", func(t *testing.T) {
		data := model("", "rank")
		data.Query, data.Docs = "capital of france", []string{"berlin is big", "paris is the capital of france", "capital city"}
		top := 2
		data.TopN = &top
		res, err := d.c.InvokeRerank(ctx, pymodelID, data, "u1")
		if err != nil || len(res.Docs) != 2 || res.Docs[0].Index != 1 || res.Docs[0].Score != 1 || res.Docs[1].Index != 2 {
			t.Fatalf("%+v, %v", res, err)
		}
	})
	t.Run("TTS", func(t *testing.T) {
		data := model("", "speak")
		data.ContentText, data.Voice = "hi there", "alloy"
		audio, mime, err := d.c.InvokeTTS(ctx, pymodelID, data, "u1")
		if err != nil || string(audio) != "[alloy] hi there" || mime != "audio/x-test" {
			t.Fatalf("%q %q, %v", audio, mime, err)
		}
	})
	t.Run("TTSVoices", func(t *testing.T) {
		data := model("", "speak")
		lang := "de-DE"
		data.Language = &lang
		voices, err := d.c.TTSVoices(ctx, pymodelID, data, "u1")
		if err != nil || len(voices) != 1 || voices[0] != (protocol.TTSVoice{Name: "Echo", Value: "echo"}) {
			t.Fatalf("%+v, %v", voices, err)
		}
		if all, err := d.c.TTSVoices(ctx, pymodelID, model("", "speak"), "u1"); err != nil || len(all) != 2 {
			t.Fatalf("all voices %+v, %v", all, err)
		}
	})
	t.Run("Speech2Text", func(t *testing.T) {
		text, err := d.c.InvokeSpeech2Text(ctx, pymodelID, model("", "listen"), []byte("bonjour ✓"), "u1")
		if err != nil || text != "bonjour ✓" {
			t.Fatalf("%q, %v", text, err)
		}
	})
	t.Run("Moderation", func(t *testing.T) {
		for text, want := range map[string]bool{"some forbidden words": true, "fine words": false} {
			data := model("", "guard")
			data.Text = text
			if got, err := d.c.InvokeModeration(ctx, pymodelID, data, "u1"); err != nil || got != want {
				t.Fatalf("%q: %v, %v", text, got, err)
			}
		}
	})
	t.Run("Schema", func(t *testing.T) {
		decl, err := d.c.ModelSchema(ctx, pymodelID, model("llm", "my-llm"), "u1")
		if err != nil || decl == nil || decl.Model != "my-llm" || decl.ModelType != "llm" {
			t.Fatalf("%+v, %v", decl, err)
		}
		if decl, err := d.c.ModelSchema(ctx, pymodelID, model("llm", "unknown"), "u1"); err != nil || decl != nil {
			t.Fatalf("unknown model: %+v, %v", decl, err)
		}
	})
}

// TestModelCredentials validates provider and model credentials.
func TestModelCredentials(t *testing.T) {
	d := MustPymodel(t)
	ctx := context.Background()
	res, err := d.c.ValidateProviderCredentials(ctx, pymodelID, "pymodel", map[string]any{"api_key": "good"}, "u1")
	if err != nil || !res.Result || res.Credentials["normalised"] != true {
		t.Fatalf("good key: %+v, %v", res, err)
	}
	_, err = d.c.ValidateProviderCredentials(ctx, pymodelID, "pymodel", map[string]any{"api_key": "wrong"}, "u1")
	var e *client.Error
	if !errors.As(err, &e) {
		t.Fatalf("wrong key: %v", err)
	}
	if typ, msg := e.PluginError(); typ != protocol.ErrCredentialsValidateFailed || !strings.Contains(msg, "'wrong' is not valid") {
		t.Fatalf("wrong key: %q %q", typ, msg)
	}
	if res, err := d.c.ValidateProviderCredentials(ctx, pymodelID, "pymodel", map[string]any{"api_key": "silent"}, "u1"); err != nil || res.Result {
		t.Fatalf("no answer: %+v, %v", res, err)
	}
	data := model("llm", "my-llm")
	if res, err := d.c.ValidateModelCredentials(ctx, pymodelID, data, "u1"); err != nil || !res.Result {
		t.Fatalf("model credentials: %+v, %v", res, err)
	}
}

// TestModelErrors: each error a provider's SDK reports reaches the caller
// as Dify's daemon wraps it, on a stream and on a one-answer route.
func TestModelErrors(t *testing.T) {
	d := MustPymodel(t)
	ctx := context.Background()
	for _, typ := range []string{protocol.ErrInvokeAuthorization, protocol.ErrInvokeRateLimit, protocol.ErrInvokeServerUnavailable,
		protocol.ErrInvokeBadRequest, protocol.ErrInvokeConnection, protocol.ErrCredentialsValidateFailed} {
		t.Run(typ, func(t *testing.T) {
			data := llm("echo", "hi")
			data.Credentials = map[string]any{"error_type": typ, "message": "upstream said no (" + typ + ")"}
			s, err := d.c.InvokeLLM(ctx, pymodelID, data, "u1")
			if err != nil {
				t.Fatal(err)
			}
			_, err = readLLM(s)
			mustPluginError(t, err, typ)
			emb := model("", "embed")
			emb.Texts, emb.Credentials = []string{"x"}, data.Credentials
			_, err = d.c.InvokeTextEmbedding(ctx, pymodelID, emb, "u1")
			mustPluginError(t, err, typ)
		})
	}
	t.Run("DoubleWrapped", func(t *testing.T) { // Dify's PluginInvokeError envelope, byte for byte in shape
		_, body := rawPost(t, d, "dispatch/moderation/invoke",
			`{"user_id":"u1","data":{"provider":"pymodel","model":"m","text":"x","credentials":{"error_type":"InvokeRateLimitError","message":"slow down"}}}`,
			modelHeaders())
		var env apispec.Envelope
		var outer, inner apispec.ErrorBody
		line := strings.TrimPrefix(strings.TrimSpace(body), "data: ")
		if json.Unmarshal([]byte(line), &env) != nil || env.Code != apispec.CodeInternal ||
			json.Unmarshal([]byte(env.Message), &outer) != nil || outer.ErrorType != apispec.ErrInvoke ||
			json.Unmarshal([]byte(outer.Message), &inner) != nil || inner.ErrorType != "InvokeRateLimitError" || inner.Message != "slow down" {
			t.Fatalf("error frame %s", body)
		}
	})
}

// mustPluginError checks err is the plugin's error of type typ.
func mustPluginError(tb testing.TB, err error, typ string) {
	tb.Helper()
	var e *client.Error
	if !errors.As(err, &e) || e.Type != apispec.ErrInvoke {
		tb.Fatalf("error %v, want a %s", err, apispec.ErrInvoke)
	}
	if got, msg := e.PluginError(); got != typ || msg != "upstream said no ("+typ+")" {
		tb.Fatalf("plugin error %q %q, want %s", got, msg, typ)
	}
}

// cancels counts the sessions pymodel logged as cancelled.
func cancels(tb testing.TB, d *daemon) int {
	tb.Helper()
	logs, err := d.c.PluginLogs(context.Background(), pymodelID, 1000)
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for _, l := range logs {
		if strings.HasPrefix(l.Message, "cancelled ") {
			n++
		}
	}
	return n
}

// waitFor polls cond until it holds (the test's deadline bounds it).
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestModelBadChunk: a chunk that is not an LLMResultChunk ends the stream
// with an error naming the plugin, and the plugin is told to stop.
func TestModelBadChunk(t *testing.T) {
	d := MustPymodel(t)
	before := cancels(t, d)
	s, err := d.c.InvokeLLM(context.Background(), pymodelID, llm("bad-chunk", "x"), "u1")
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := readLLM(s)
	if len(chunks) != 1 || chunks[0].Delta.Message.Content.Text != "first" {
		t.Fatalf("chunks before the bad one: %+v", chunks)
	}
	if err == nil || !strings.Contains(err.Error(), pymodelID) || !strings.Contains(err.Error(), "delta.index is required") {
		t.Fatalf("error %v, want one naming %s and delta.index", err, pymodelID)
	}
	waitFor(t, "the plugin to log the cancel", func() bool { return cancels(t, d) > before })
}

// TestModelCancel: a client that goes away cancels the plugin's session.
func TestModelCancel(t *testing.T) {
	d := MustPymodel(t)
	before := cancels(t, d)
	s, err := d.c.InvokeLLM(context.Background(), pymodelID, llm("slow", "x"), "u1")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := s.Next(); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	waitFor(t, "the plugin to log the cancel", func() bool { return cancels(t, d) > before })
}

// TestModelBadRequests: bodies Dify's daemon refuses are refused with 400
// and a message naming the field; a provider or model type the plugin does
// not declare is 404.
func TestModelBadRequests(t *testing.T) {
	d := MustPymodel(t)
	cases := []struct {
		name, route, data string
		status            int
		want              string
	}{
		{"NoProvider", "llm/invoke", `{"model":"m"}`, 400, "data.provider is required"},
		{"NoModel", "llm/invoke", `{"provider":"pymodel"}`, 400, "data.model is required"},
		{"WrongType", "llm/invoke", `{"provider":"pymodel","model":"m","model_type":"rerank"}`, 400, "must be llm"},
		{"UnknownType", "model/schema", `{"provider":"pymodel","model":"m","model_type":"hologram"}`, 400, "hologram"},
		{"NoType", "model/schema", `{"provider":"pymodel","model":"m"}`, 400, "data.model_type is required"},
		{"BadRole", "llm/invoke", `{"provider":"pymodel","model":"m","prompt_messages":[{"role":"robot","content":"x"}]}`, 400, `prompt_messages[0]: role must be`},
		{"ToolWithoutID", "llm/invoke", `{"provider":"pymodel","model":"m","prompt_messages":[{"role":"tool","content":"x"}]}`, 400, "tool_call_id"},
		{"BadContent", "llm/invoke", `{"provider":"pymodel","model":"m","prompt_messages":[{"role":"user","content":5}]}`, 400, "content"},
		{"BadPartType", "llm/invoke", `{"provider":"pymodel","model":"m","prompt_messages":[{"role":"user","content":[{"type":"smell"}]}]}`, 400, "smell"},
		{"BadToolChoice", "llm/invoke", `{"provider":"pymodel","model":"m","tool_choice":{"mode":"tool"}}`, 400, "tool_choice.name"},
		{"NoTexts", "text_embedding/invoke", `{"provider":"pymodel","model":"m"}`, 400, "data.texts"},
		{"BadInputType", "text_embedding/invoke", `{"provider":"pymodel","model":"m","texts":[],"input_type":"poem"}`, 400, "input_type"},
		{"NoQuery", "rerank/invoke", `{"provider":"pymodel","model":"m","docs":[]}`, 400, "data.query"},
		{"NoVoice", "tts/invoke", `{"provider":"pymodel","model":"m","content_text":"x"}`, 400, "data.voice"},
		{"FileNotHex", "speech2text/invoke", `{"provider":"pymodel","model":"m","file":"xyz"}`, 400, "hex"},
		{"NoText", "moderation/invoke", `{"provider":"pymodel","model":"m"}`, 400, "data.text"},
		{"OtherProvider", "llm/invoke", `{"provider":"openai","model":"m"}`, 404, `has no model provider \\\"openai\\\"`},
		{"TypeNotSupported", "model/schema", `{"provider":"pymodel","model":"m","model_type":"text2img"}`, 404, "does not support text2img"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := rawPost(t, d, "dispatch/"+tc.route, `{"user_id":"u1","data":`+tc.data+`}`, modelHeaders())
			if status != tc.status || !strings.Contains(body, tc.want) {
				t.Fatalf("status %d: %s; want %d with %q", status, body, tc.status, tc.want)
			}
		})
	}
	t.Run("NotAModelPlugin", func(t *testing.T) {
		tools, _ := MustShared(t)
		status, body := rawPost(t, tools, "dispatch/llm/invoke", `{"data":{"provider":"gotools","model":"m"}}`,
			map[string]string{"X-Api-Key": testKey, "X-Plugin-ID": gotoolID, "Content-Type": "application/json"})
		if status != http.StatusNotFound || !strings.Contains(body, "has no model provider") {
			t.Fatalf("status %d: %s", status, body)
		}
	})
}

// TestModelConcurrentStreams holds 200 LLM streams open at once, each
// having received chunks, then closes them all: no stream fails, and every
// session is cancelled in the plugin.
func TestModelConcurrentStreams(t *testing.T) {
	const n = 200
	d := MustPymodel(t)
	before := cancels(t, d)
	var started, release sync.WaitGroup
	started.Add(n)
	release.Add(1)
	errc := make(chan error, n)
	var done sync.WaitGroup
	for range n {
		done.Add(1)
		go func() {
			defer done.Done()
			errc <- holdStream(d, &started, &release)
		}()
	}
	started.Wait() // every stream has had its chunks and is still open
	if h, err := d.c.Health(context.Background()); err != nil || h.ActiveRequests < n {
		t.Fatalf("health %+v, %v; want %d active requests", h, err, n)
	}
	release.Done()
	done.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "every session to be cancelled in the plugin", func() bool { return cancels(t, d) >= before+n })
	waitFor(t, "the daemon to close every stream", func() bool {
		h, err := d.c.Health(context.Background())
		return err == nil && h.ActiveRequests == 0
	})
}

// holdStream opens a slow LLM stream, reads three chunks, waits for the
// release and closes it.
func holdStream(d *daemon, started, release *sync.WaitGroup) error {
	s, err := d.c.InvokeLLM(context.Background(), pymodelID, llm("slow", "x"), "u1")
	if err != nil {
		started.Done()
		return err
	}
	defer s.Close()
	for i := range 3 {
		c, err := s.Next()
		if err == nil && c.Delta.Index != i {
			err = errors.New("chunks out of order")
		}
		if err != nil {
			started.Done()
			return err
		}
	}
	started.Done()
	release.Wait()
	return nil
}

// modelHeaders are the headers of a raw call of pymodel.
func modelHeaders() map[string]string {
	return map[string]string{"X-Api-Key": testKey, "X-Plugin-ID": pymodelID, "Content-Type": "application/json"}
}
