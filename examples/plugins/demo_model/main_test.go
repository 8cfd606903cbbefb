package main

import (
	"strings"
	"testing"

	"github.com/plugboard/plugboard/sdk"
	"github.com/plugboard/plugboard/sdk/sdktest"
)

func chatFields(extra map[string]any, msgs ...map[string]any) map[string]any {
	f := map[string]any{"provider": provider, "model_type": "llm", "model": "demo-chat", "stream": true,
		"model_parameters": map[string]any{"delay_ms": 1}, "prompt_messages": msgs}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

func user(text string) map[string]any { return map[string]any{"role": "user", "content": text} }

var weatherTool = map[string]any{"name": "get_weather", "description": "Weather by city",
	"parameters": map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}}}

func TestChat(t *testing.T) {
	c := sdktest.Serve(t, newPlugin())
	t.Run("OKStreamsInSeveralChunks", func(t *testing.T) {
		c.ModelRequest(t, "s1", "invoke_llm", chatFields(nil, user("hello there demo")))
		chunks := sdktest.LLMChunks(t, c.Session(t, "s1"))
		var text strings.Builder
		for i, ch := range chunks {
			if ch.Delta.Index != i || ch.Model != "demo-chat" {
				t.Fatalf("chunk %d = %+v", i, ch)
			}
			text.WriteString(ch.Delta.Message.Content.Text)
		}
		want := "Demo model — not a real LLM. You said: “hello there demo” (3 words, 16 characters)."
		if len(chunks) < 4 || text.String() != want {
			t.Fatalf("%d chunks, text %q; want several, %q", len(chunks), text.String(), want)
		}
		last := chunks[len(chunks)-1].Delta
		if last.FinishReason != "stop" || last.Usage == nil || last.Usage.CompletionTokens == 0 {
			t.Fatalf("last delta = %+v", last)
		}
	})
	t.Run("OKAsksForAToolWhenOffered", func(t *testing.T) {
		c.ModelRequest(t, "s2", "invoke_llm", chatFields(map[string]any{"tools": []any{weatherTool}}, user("Paris")))
		chunks := sdktest.LLMChunks(t, c.Session(t, "s2"))
		var calls []string
		for _, ch := range chunks {
			for _, tc := range ch.Delta.Message.ToolCalls {
				calls = append(calls, tc.ID+" "+tc.Function.Name+" "+tc.Function.Arguments)
			}
		}
		last := chunks[len(chunks)-1].Delta
		if strings.Join(calls, ";") != `call_demo_1 get_weather {"city":"Paris"}` || last.FinishReason != "tool_calls" {
			t.Fatalf("calls %v, finish %q", calls, last.FinishReason)
		}
	})
	t.Run("OKAnswersTheToolResult", func(t *testing.T) {
		c.ModelRequest(t, "s3", "invoke_llm", chatFields(map[string]any{"tools": []any{weatherTool}},
			user("Paris"),
			map[string]any{"role": "assistant", "content": "", "tool_calls": []any{map[string]any{"id": "call_demo_1", "type": "function",
				"function": map[string]any{"name": "get_weather", "arguments": `{"city":"Paris"}`}}}},
			map[string]any{"role": "tool", "content": "21 °C", "tool_call_id": "call_demo_1"}))
		var text strings.Builder
		for _, ch := range sdktest.LLMChunks(t, c.Session(t, "s3")) {
			if len(ch.Delta.Message.ToolCalls) > 0 {
				t.Fatalf("asked for a tool again: %+v", ch)
			}
			text.WriteString(ch.Delta.Message.Content.Text)
		}
		if text.String() != "Demo model — not a real LLM. The tool answered: 21 °C" {
			t.Fatalf("text = %q", text.String())
		}
	})
	t.Run("OKToolChoiceNone", func(t *testing.T) {
		c.ModelRequest(t, "s4", "invoke_llm", chatFields(map[string]any{"tools": []any{weatherTool},
			"tool_choice": map[string]any{"mode": "none"}}, user("Paris")))
		for _, ch := range sdktest.LLMChunks(t, c.Session(t, "s4")) {
			if len(ch.Delta.Message.ToolCalls) > 0 {
				t.Fatalf("asked for a tool with tool_choice none: %+v", ch)
			}
		}
	})
	t.Run("OKCancelStopsTheStream", func(t *testing.T) {
		c.ModelRequest(t, "s5", "invoke_llm", chatFields(map[string]any{"model_parameters": map[string]any{"delay_ms": 1000}},
			user(strings.Repeat("word ", 30))))
		c.Cancel(t, "s5")
		msgs := c.Session(t, "s5")
		if e := sdktest.Error(t, msgs); !strings.Contains(e.Message, "context canceled") {
			t.Fatalf("error = %+v", e)
		}
	})
}

func TestEmbeddingAndRerank(t *testing.T) {
	c := sdktest.Serve(t, newPlugin())
	t.Run("OKDeterministicUnitVectors", func(t *testing.T) {
		fields := map[string]any{"provider": provider, "model_type": "text-embedding", "model": "demo-embedding",
			"texts": []string{"the cat sat", "The cat sat!", "dogs run"}, "input_type": "document"}
		c.ModelRequest(t, "e1", "invoke_text_embedding", fields)
		res := sdktest.Decode[struct {
			Model      string      `json:"model"`
			Embeddings [][]float64 `json:"embeddings"`
		}](t, sdktest.Chunks(t, c.Session(t, "e1"))[0])
		if res.Model != "demo-embedding" || len(res.Embeddings) != 3 || len(res.Embeddings[0]) != dimensions {
			t.Fatalf("answer = %+v", res)
		}
		if dot(res.Embeddings[0], res.Embeddings[1]) < 0.999 || dot(res.Embeddings[0], res.Embeddings[2]) > 0.5 {
			t.Fatalf("similarities: same words %.3f, other words %.3f", dot(res.Embeddings[0], res.Embeddings[1]), dot(res.Embeddings[0], res.Embeddings[2]))
		}
	})
	t.Run("OKRerankByWordOverlap", func(t *testing.T) {
		c.ModelRequest(t, "r1", "invoke_rerank", map[string]any{"provider": provider, "model_type": "rerank", "model": "demo-rerank",
			"query": "capital of France", "docs": []string{"Berlin is big", "Paris is the capital of France", "France has wine"}})
		got := string(sdktest.Chunks(t, c.Session(t, "r1"))[0])
		want := `{"model":"demo-rerank","docs":[{"index":1,"text":"Paris is the capital of France","score":1},` +
			`{"index":2,"text":"France has wine","score":0.3333},{"index":0,"text":"Berlin is big","score":0}]}`
		if got != want {
			t.Fatalf("rerank = %s\nwant %s", got, want)
		}
	})
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

var (
	timeTool  = map[string]any{"name": "get_time", "description": "Time by city", "parameters": map[string]any{"type": "object"}}
	placeTool = map[string]any{"name": "get_place", "description": "A place", "parameters": map[string]any{"type": "object"}}
)

// calls are the tool calls of a session's chunks, as "id name args".
func calls(chunks []sdk.LLMChunk) []string {
	var out []string
	for _, ch := range chunks {
		for _, tc := range ch.Delta.Message.ToolCalls {
			out = append(out, tc.ID+" "+tc.Function.Name+" "+tc.Function.Arguments)
		}
	}
	return out
}

func assistantCalls(names ...string) map[string]any {
	var tcs []any
	for _, n := range names {
		tcs = append(tcs, map[string]any{"id": "id_" + n, "type": "function", "function": map[string]any{"name": n, "arguments": "{}"}})
	}
	return map[string]any{"role": "assistant", "content": "", "tool_calls": tcs}
}

func toolMsg(name, text string) map[string]any {
	return map[string]any{"role": "tool", "content": text, "tool_call_id": "id_" + name}
}

// TestAgentRounds drives the demo as an agent would: two tools, then one,
// then the answer with every result; "call NAME ARGS" asks verbatim.
func TestAgentRounds(t *testing.T) {
	c := sdktest.Serve(t, newPlugin())
	tools := map[string]any{"tools": []any{weatherTool, timeTool, placeTool}}
	t.Run("OKTwoFirst", func(t *testing.T) {
		c.ModelRequest(t, "r1", "invoke_llm", chatFields(tools, user("Paris")))
		if got := strings.Join(calls(sdktest.LLMChunks(t, c.Session(t, "r1"))), ";"); got != `call_demo_1 get_weather {"city":"Paris"};call_demo_1_1 get_time {}` {
			t.Fatalf("calls %s", got)
		}
	})
	t.Run("OKThenOne", func(t *testing.T) {
		c.ModelRequest(t, "r2", "invoke_llm", chatFields(tools, user("Paris"), assistantCalls("get_weather", "get_time"),
			toolMsg("get_weather", "sunny"), toolMsg("get_time", "noon")))
		if got := strings.Join(calls(sdktest.LLMChunks(t, c.Session(t, "r2"))), ";"); got != `call_demo_4 get_place {}` {
			t.Fatalf("calls %s", got)
		}
	})
	t.Run("OKThenTheAnswer", func(t *testing.T) {
		c.ModelRequest(t, "r3", "invoke_llm", chatFields(tools, user("Paris"), assistantCalls("get_weather", "get_time"),
			toolMsg("get_weather", "sunny"), toolMsg("get_time", "noon"), assistantCalls("get_place"), toolMsg("get_place", "Louvre")))
		var text strings.Builder
		for _, ch := range sdktest.LLMChunks(t, c.Session(t, "r3")) {
			text.WriteString(ch.Delta.Message.Content.Text)
		}
		if text.String() != "Demo model — not a real LLM. The tools answered: get_weather: sunny; get_time: noon; get_place: Louvre" {
			t.Fatalf("text %q", text.String())
		}
	})
	t.Run("OKCallVerbatim", func(t *testing.T) {
		c.ModelRequest(t, "r4", "invoke_llm", chatFields(tools, user("call nosuch {not json")))
		if got := strings.Join(calls(sdktest.LLMChunks(t, c.Session(t, "r4"))), ";"); got != `call_demo_1 nosuch {not json` {
			t.Fatalf("calls %s", got)
		}
	})
}
