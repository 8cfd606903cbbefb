package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/daemon/api"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/manager"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/sdk/devkit"
)

// MustInstalled starts a daemon, packs this plugin as `make` does and
// installs it, and returns a client of the daemon.
func MustInstalled(tb testing.TB) *client.Client {
	tb.Helper()
	if testing.Short() {
		tb.Skip("builds and runs the plugin under a daemon")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m, err := manager.Open(ctx, manager.Config{DataDir: tb.TempDir(), Limits: pkgfmt.DefaultLimits(), Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Config{APIKey: "test-key", Logger: log}, m))
	tb.Cleanup(func() { srv.Close(); m.Close() })
	c := client.New(srv.URL, "test-key")
	data, _, err := devkit.PackDir(ctx, ".", pkgfmt.DefaultLimits(), io.Discard)
	if err != nil {
		tb.Fatal(err)
	}
	up, err := c.UploadPackage(ctx, "demo_model.difypkg", bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	res, err := c.Install(ctx, []string{up.UniqueIdentifier}, "package", nil)
	if err == nil && !res.AllInstalled {
		_, err = c.WaitTask(ctx, res.TaskID)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

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
	c := MustInstalled(t)
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
