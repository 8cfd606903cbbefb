package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/plugboard/plugboard/sdk"
	"github.com/plugboard/plugboard/sdk/sdktest"
)

// fakeServer is a small OpenAI-compatible server. What it answers depends
// on the model asked for: "unauthorized", "busy" and "broken" get 401, 429
// and 500; "slow" never answers and "stall" stops after one chunk (both
// until the client goes away); any other model streams "Hello world", or
// a tool call in pieces when tools are offered.
type fakeServer struct {
	*httptest.Server
	mu   sync.Mutex
	last map[string]any // the last chat request's body
	auth string         // its Authorization header
}

func newFakeServer(t *testing.T, rerank bool) *fakeServer {
	fs := &fakeServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", fs.chat)
	mux.HandleFunc("POST /v1/embeddings", fs.embeddings)
	if rerank {
		mux.HandleFunc("POST /v1/rerank", fs.rerank)
	}
	fs.Server = httptest.NewServer(mux)
	t.Cleanup(fs.Close)
	return fs
}

func (fs *fakeServer) lastRequest() (map[string]any, string) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.last, fs.auth
}

func (fs *fakeServer) chat(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	json.NewDecoder(r.Body).Decode(&body)
	fs.mu.Lock()
	fs.last, fs.auth = body, r.Header.Get("Authorization")
	fs.mu.Unlock()
	switch body["model"] {
	case "unauthorized":
		http.Error(w, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}`, http.StatusUnauthorized)
		return
	case "busy":
		http.Error(w, `{"error":{"message":"Rate limit reached for requests"}}`, http.StatusTooManyRequests)
		return
	case "broken":
		http.Error(w, "upstream exploded", http.StatusInternalServerError)
		return
	case "slow":
		<-r.Context().Done()
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	send := func(chunk string) {
		fmt.Fprintf(w, "data: %s\n\n", chunk)
		w.(http.Flusher).Flush()
	}
	if body["model"] == "stall" {
		send(`{"choices":[{"index":0,"delta":{"content":"Hel"}}]}`)
		<-r.Context().Done()
		return
	}
	if _, ok := body["tools"]; ok {
		send(`{"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}`)
		send(`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}}]}`)
		send(`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]},"finish_reason":"tool_calls"}]}`)
	} else {
		for _, piece := range []string{"Hel", "lo", " world"} {
			send(`{"choices":[{"index":0,"delta":{"content":"` + piece + `"}}]}`)
		}
		send(`{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`)
	}
	send(`{"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":3,"total_tokens":14}}`)
	send("[DONE]")
}

func (fs *fakeServer) embeddings(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Input []string `json:"input"`
	}
	json.NewDecoder(r.Body).Decode(&body)
	var data []map[string]any
	for i := len(body.Input) - 1; i >= 0; i-- { // out of order, as the index allows
		data = append(data, map[string]any{"index": i, "embedding": []float64{float64(len(body.Input[i])), 1}})
	}
	json.NewEncoder(w).Encode(map[string]any{"data": data, "usage": map[string]int{"prompt_tokens": 6, "total_tokens": 6}})
}

func (fs *fakeServer) rerank(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Query     string   `json:"query"`
		Documents []string `json:"documents"`
	}
	json.NewDecoder(r.Body).Decode(&body)
	var results []map[string]any
	for i, d := range body.Documents {
		score := 0.1
		if strings.Contains(d, body.Query) {
			score = 0.9
		}
		results = append(results, map[string]any{"index": i, "relevance_score": score})
	}
	json.NewEncoder(w).Encode(map[string]any{"results": results})
}

// creds are a model's credentials for the fake server.
func creds(fs *fakeServer, extra map[string]any) map[string]any {
	c := map[string]any{"endpoint_url": fs.URL + "/v1", "api_key": "sk-test", "context_size": "8192",
		"function_calling_type": "tool_call", "timeout": "0.3"}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

func llmRequest(fs *fakeServer, model string, extra map[string]any) map[string]any {
	f := map[string]any{"provider": provider, "model_type": "llm", "model": model, "stream": true,
		"credentials": creds(fs, nil), "model_parameters": map[string]any{"temperature": 0.2, "max_tokens": 64, "unknown": 1},
		"prompt_messages": []any{map[string]any{"role": "system", "content": "Be brief."}, map[string]any{"role": "user", "content": "Hi"}}}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

func TestChat(t *testing.T) {
	fs := newFakeServer(t, true)
	c := sdktest.Serve(t, newPlugin(http.DefaultTransport))
	t.Run("OKStreams", func(t *testing.T) {
		c.ModelRequest(t, "s1", "invoke_llm", llmRequest(fs, "llama3.1:8b", nil))
		chunks := sdktest.LLMChunks(t, c.Session(t, "s1"))
		var texts []string
		for _, ch := range chunks {
			texts = append(texts, ch.Delta.Message.Content.Text)
		}
		last := chunks[len(chunks)-1].Delta
		if strings.Join(texts, "|") != "Hel|lo| world|" || last.FinishReason != "stop" || last.Usage == nil ||
			last.Usage.PromptTokens != 11 || last.Usage.CompletionTokens != 3 || last.Usage.TotalTokens != 14 {
			t.Fatalf("texts %q, last delta %+v usage %+v", texts, last, last.Usage)
		}
		body, auth := fs.lastRequest()
		if auth != "Bearer sk-test" || body["model"] != "llama3.1:8b" || body["stream"] != true ||
			body["temperature"] != 0.2 || body["max_tokens"] != 64.0 || body["unknown"] != nil || body["tools"] != nil {
			t.Fatalf("the server got %v with %q", body, auth)
		}
	})
	t.Run("OKToolCallsWhole", func(t *testing.T) {
		tools := []any{map[string]any{"name": "get_weather", "description": "Weather by city", "parameters": map[string]any{"type": "object"}}}
		c.ModelRequest(t, "s2", "invoke_llm", llmRequest(fs, "llama3.1:8b", map[string]any{"tools": tools,
			"tool_choice": map[string]any{"mode": "auto"}}))
		chunks := sdktest.LLMChunks(t, c.Session(t, "s2"))
		var calls []sdk.ToolCall
		for _, ch := range chunks {
			calls = append(calls, ch.Delta.Message.ToolCalls...)
		}
		want := sdk.ToolCall{ID: "call_1", Type: "function", Function: sdk.ToolCallFunction{Name: "get_weather", Arguments: `{"city":"Paris"}`}}
		if len(calls) != 1 || calls[0] != want || chunks[len(chunks)-1].Delta.FinishReason != "tool_calls" {
			t.Fatalf("calls %+v, chunks %+v", calls, chunks)
		}
		body, _ := fs.lastRequest()
		sent, _ := json.Marshal(body["tools"])
		if string(sent) != `[{"function":{"description":"Weather by city","name":"get_weather","parameters":{"type":"object"}},"type":"function"}]` ||
			body["tool_choice"] != "auto" {
			t.Fatalf("tools sent: %s, tool_choice %v", sent, body["tool_choice"])
		}
	})
	t.Run("OKNoToolsWithoutFunctionCalling", func(t *testing.T) {
		tools := []any{map[string]any{"name": "get_weather", "parameters": map[string]any{"type": "object"}}}
		req := llmRequest(fs, "llama3.1:8b", map[string]any{"tools": tools, "credentials": creds(fs, map[string]any{"function_calling_type": "no_call"})})
		c.ModelRequest(t, "s3", "invoke_llm", req)
		sdktest.LLMChunks(t, c.Session(t, "s3"))
		if body, _ := fs.lastRequest(); body["tools"] != nil {
			t.Fatalf("tools were sent to a model without function calling: %v", body["tools"])
		}
	})
	for _, tc := range []struct{ name, model, typ, msg string }{
		{"ErrUnauthorized", "unauthorized", sdk.ErrTypeInvokeAuthorization, "Incorrect API key provided (HTTP 401 from "},
		{"ErrRateLimited", "busy", sdk.ErrTypeInvokeRateLimit, "Rate limit reached for requests (HTTP 429 from "},
		{"ErrServerError", "broken", sdk.ErrTypeInvokeServerUnavailable, "upstream exploded (HTTP 500 from "},
		{"ErrSlowAnswerTimesOut", "slow", sdk.ErrTypeInvokeConnection, "gave no answer within 300ms"},
		{"ErrStalledStreamTimesOut", "stall", sdk.ErrTypeInvokeConnection, "gave no answer within 300ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.ModelRequest(t, tc.name, "invoke_llm", llmRequest(fs, tc.model, nil))
			e := sdktest.Error(t, c.Session(t, tc.name))
			args, _ := e.Args.(map[string]any)
			if e.ErrorType != tc.typ || !strings.Contains(e.Message, tc.msg) || args["description"] != e.Message {
				t.Fatalf("error = %+v, want %s with %q", e, tc.typ, tc.msg)
			}
			if strings.Contains(e.Message, "sk-test") {
				t.Fatalf("the error shows the API key: %s", e.Message)
			}
		})
	}
	t.Run("ErrNoPasswordOfTheURLInMessages", func(t *testing.T) {
		withPassword := strings.Replace(fs.URL, "http://", "http://user:hunter2@", 1) + "/v1"
		dead := strings.Replace(withPassword, fs.URL[len("http://"):], "127.0.0.1:1", 1)
		for i, endpoint := range []string{withPassword, dead} {
			session := fmt.Sprintf("pw%d", i)
			c.ModelRequest(t, session, "invoke_llm", llmRequest(fs, "busy", map[string]any{"credentials": map[string]any{"endpoint_url": endpoint}}))
			if e := sdktest.Error(t, c.Session(t, session)); strings.Contains(e.Message, "hunter2") || !strings.Contains(e.Message, "user:xxxxx@") {
				t.Fatalf("error = %+v", e)
			}
		}
	})
	t.Run("ErrUnreachable", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		req := llmRequest(fs, "m", map[string]any{"credentials": map[string]any{"endpoint_url": dead.URL + "/v1"}})
		c.ModelRequest(t, "unreachable", "invoke_llm", req)
		if e := sdktest.Error(t, c.Session(t, "unreachable")); e.ErrorType != sdk.ErrTypeInvokeConnection || !strings.Contains(e.Message, "cannot reach") {
			t.Fatalf("error = %+v", e)
		}
	})
	t.Run("ErrBadBaseURL", func(t *testing.T) {
		c.ModelRequest(t, "badurl", "invoke_llm", llmRequest(fs, "m", map[string]any{"credentials": map[string]any{"endpoint_url": "ollama:11434"}}))
		if e := sdktest.Error(t, c.Session(t, "badurl")); e.ErrorType != sdk.ErrTypeInvokeBadRequest || !strings.Contains(e.Message, "not an http or https URL") {
			t.Fatalf("error = %+v", e)
		}
	})
}

func TestCredentialsAndSchema(t *testing.T) {
	fs := newFakeServer(t, true)
	c := sdktest.Serve(t, newPlugin(http.DefaultTransport))
	t.Run("OKModelCredentials", func(t *testing.T) {
		c.ModelRequest(t, "v1", "validate_model_credentials", map[string]any{"provider": provider, "model_type": "llm",
			"model": "llama3.1:8b", "credentials": creds(fs, nil)})
		got := sdktest.Decode[map[string]any](t, sdktest.Chunks(t, c.Session(t, "v1"))[0])
		if got["result"] != true {
			t.Fatalf("answer = %v", got)
		}
	})
	t.Run("ErrModelCredentialsRejected", func(t *testing.T) {
		c.ModelRequest(t, "v2", "validate_model_credentials", map[string]any{"provider": provider, "model_type": "llm",
			"model": "unauthorized", "credentials": creds(fs, nil)})
		e := sdktest.Error(t, c.Session(t, "v2"))
		if e.ErrorType != sdk.ErrTypeCredentialsValidateFailed || !strings.Contains(e.Message, "Incorrect API key provided") {
			t.Fatalf("error = %+v", e)
		}
	})
	t.Run("OKSchemaFromCredentials", func(t *testing.T) {
		c.ModelRequest(t, "sc", "get_ai_model_schemas", map[string]any{"provider": provider, "model_type": "llm",
			"model": "llava", "credentials": creds(fs, map[string]any{"vision_support": "true", "max_tokens_to_sample": "1024"})})
		got := sdktest.Decode[struct {
			Schema sdk.ModelSchema `json:"model_schema"`
		}](t, sdktest.Chunks(t, c.Session(t, "sc"))[0]).Schema
		rules := map[string]sdk.ParameterRule{}
		for _, r := range got.ParameterRules {
			rules[r.Name] = r
		}
		if got.Model != "llava" || got.FetchFrom != "customizable-model" || strings.Join(got.Features, ",") != "tool-call,multi-tool-call,stream-tool-call,vision" ||
			got.ModelProperties["context_size"] != 8192.0 || rules["max_tokens"].Max == nil || *rules["max_tokens"].Max != 1024 ||
			rules["temperature"].Type != "float" || got.Pricing != nil {
			t.Fatalf("schema = %+v", got)
		}
	})
	t.Run("OKSchemaPricing", func(t *testing.T) {
		c.ModelRequest(t, "sp", "get_ai_model_schemas", map[string]any{"provider": provider, "model_type": "llm",
			"model": "llava", "credentials": creds(fs, map[string]any{"input_price": "0.15", "output_price": "0.6"})})
		got := sdktest.Decode[struct {
			Schema sdk.ModelSchema `json:"model_schema"`
		}](t, sdktest.Chunks(t, c.Session(t, "sp"))[0]).Schema
		if p := got.Pricing; p == nil || p.Input != "0.15" || p.Output == nil || *p.Output != "0.6" || p.Unit != "0.000001" || p.Currency != "USD" {
			t.Fatalf("pricing = %+v", got.Pricing)
		}
		c.ModelRequest(t, "sb", "get_ai_model_schemas", map[string]any{"provider": provider, "model_type": "llm",
			"model": "llava", "credentials": creds(fs, map[string]any{"input_price": "cheap"})})
		if e := sdktest.Error(t, c.Session(t, "sb")); !strings.Contains(e.Message, `price "cheap"`) {
			t.Fatalf("a price that is no number: %+v", e)
		}
	})
}

func TestEmbeddingAndRerank(t *testing.T) {
	fs := newFakeServer(t, true)
	c := sdktest.Serve(t, newPlugin(http.DefaultTransport))
	t.Run("OKEmbeddingsInOrder", func(t *testing.T) {
		c.ModelRequest(t, "e1", "invoke_text_embedding", map[string]any{"provider": provider, "model_type": "text-embedding",
			"model": "nomic-embed-text", "credentials": creds(fs, nil), "texts": []string{"a", "abc"}, "input_type": "document"})
		got := string(sdktest.Chunks(t, c.Session(t, "e1"))[0])
		if !strings.HasPrefix(got, `{"model":"nomic-embed-text","embeddings":[[1,1],[3,1]],"usage":{"tokens":6,"total_tokens":6,`) {
			t.Fatalf("answer = %s", got)
		}
	})
	t.Run("OKRerank", func(t *testing.T) {
		c.ModelRequest(t, "r1", "invoke_rerank", map[string]any{"provider": provider, "model_type": "rerank", "model": "bge-reranker",
			"credentials": creds(fs, nil), "query": "Paris", "docs": []string{"Berlin", "Paris is nice"}, "top_n": 1})
		got := string(sdktest.Chunks(t, c.Session(t, "r1"))[0])
		if got != `{"model":"bge-reranker","docs":[{"index":1,"text":"Paris is nice","score":0.9}]}` {
			t.Fatalf("answer = %s", got)
		}
	})
	t.Run("ErrNoRerankEndpoint", func(t *testing.T) {
		bare := newFakeServer(t, false)
		c.ModelRequest(t, "r2", "invoke_rerank", map[string]any{"provider": provider, "model_type": "rerank", "model": "x",
			"credentials": creds(bare, nil), "query": "q", "docs": []string{"d"}})
		e := sdktest.Error(t, c.Session(t, "r2"))
		if e.ErrorType != sdk.ErrTypeInvokeBadRequest || !strings.Contains(e.Message, "no rerank endpoint") {
			t.Fatalf("error = %+v", e)
		}
	})
}
