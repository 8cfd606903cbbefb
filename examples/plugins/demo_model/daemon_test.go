package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/sdk/sdktest"
)

// readAll reads an LLM stream to its end.
func readAll(tb testing.TB, s *client.LLMStream) []*protocol.LLMResultChunk {
	tb.Helper()
	defer s.Close()
	var out []*protocol.LLMResultChunk
	for {
		ch, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, ch)
	}
}

// TestUnderDaemon drives the packed plugin through a real daemon: an agent
// flow offline — the model asks for the offered tool, then answers its result.
func TestUnderDaemon(t *testing.T) {
	c := sdktest.MustInstalled(t, ".")
	ctx := context.Background()
	data := apispec.ModelData{Provider: provider, Credentials: map[string]any{}, ModelRequest: protocol.ModelRequest{
		Model: "demo-chat", ModelParameters: map[string]any{"delay_ms": 1},
		PromptMessages: []protocol.PromptMessage{{Role: protocol.RoleUser, Content: protocol.Content{Text: "weather in Paris"}}},
		Tools: []protocol.PromptMessageTool{{Name: "get_weather", Parameters: map[string]any{"type": "object",
			"properties": map[string]any{"city": map[string]any{"type": "string"}}}}}}}
	t.Run("OKAsksForTheTool", func(t *testing.T) {
		s, err := c.InvokeLLM(ctx, "plugboard/demo_model", data, "u1")
		if err != nil {
			t.Fatal(err)
		}
		chunks := readAll(t, s)
		var calls []protocol.ToolCall
		for _, ch := range chunks {
			calls = append(calls, ch.Delta.Message.ToolCalls...)
		}
		if len(calls) != 1 || calls[0].Function.Arguments != `{"city":"weather in Paris"}` || chunks[len(chunks)-1].Delta.FinishReason != "tool_calls" {
			t.Fatalf("calls %+v in %d chunks", calls, len(chunks))
		}
		data.PromptMessages = append(data.PromptMessages,
			protocol.PromptMessage{Role: protocol.RoleAssistant, ToolCalls: calls},
			protocol.PromptMessage{Role: protocol.RoleTool, ToolCallID: calls[0].ID, Content: protocol.Content{Text: "sunny, 21 °C"}})
	})
	t.Run("OKStreamsTheAnswer", func(t *testing.T) {
		s, err := c.InvokeLLM(ctx, "plugboard/demo_model", data, "u1")
		if err != nil {
			t.Fatal(err)
		}
		chunks := readAll(t, s)
		var text strings.Builder
		for _, ch := range chunks {
			text.WriteString(ch.Delta.Message.Content.Text)
		}
		if len(chunks) < 3 || text.String() != "Demo model — not a real LLM. The tool answered: sunny, 21 °C" {
			t.Fatalf("%d chunks: %q", len(chunks), text.String())
		}
	})
	t.Run("OKRerank", func(t *testing.T) {
		res, err := c.InvokeRerank(ctx, "plugboard/demo_model", apispec.ModelData{Provider: provider, Credentials: map[string]any{},
			ModelRequest: protocol.ModelRequest{Model: "demo-rerank", Query: "red apple", Docs: []string{"a green pear", "one red apple"}}}, "u1")
		if err != nil || len(res.Docs) != 2 || res.Docs[0].Index != 1 || res.Docs[0].Score != 1 {
			t.Fatalf("rerank = %+v, %v", res, err)
		}
	})
}
