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

// TestUnderDaemon drives the packed plugin through a real daemon against
// the stand-in server: a streamed answer, and a 429 reaching the caller as
// Dify's InvokeRateLimitError with the server's message.
func TestUnderDaemon(t *testing.T) {
	fs := newFakeServer(t, true)
	c := sdktest.MustInstalled(t, ".")
	ctx := context.Background()
	data := func(model string) apispec.ModelData {
		return apispec.ModelData{Provider: provider, Credentials: creds(fs, nil), ModelRequest: protocol.ModelRequest{
			Model: model, PromptMessages: []protocol.PromptMessage{{Role: protocol.RoleUser, Content: protocol.Content{Text: "Hi"}}}}}
	}
	t.Run("OKStreams", func(t *testing.T) {
		s, err := c.InvokeLLM(ctx, "plugboard/openai_compatible", data("llama3.1:8b"), "u1")
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var texts []string
		var last *protocol.LLMResultChunk
		for {
			ch, err := s.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			texts, last = append(texts, ch.Delta.Message.Content.Text), ch
		}
		if strings.Join(texts, "|") != "Hel|lo| world|" || last.Delta.Usage == nil || last.Delta.Usage.TotalTokens != 14 {
			t.Fatalf("texts %q, last %+v", texts, last)
		}
	})
	t.Run("ErrRateLimitAsDifysError", func(t *testing.T) {
		s, err := c.InvokeLLM(ctx, "plugboard/openai_compatible", data("busy"), "u1")
		if err == nil {
			defer s.Close()
			_, err = s.Next()
		}
		var e *client.Error
		if !errors.As(err, &e) {
			t.Fatalf("error %v, want the plugin's", err)
		}
		if typ, msg := e.PluginError(); typ != "InvokeRateLimitError" || !strings.HasPrefix(msg, "Rate limit reached for requests (HTTP 429") {
			t.Fatalf("plugin error %q %q", typ, msg)
		}
	})
	t.Run("OKSchema", func(t *testing.T) {
		d := data("llama3.1:8b")
		d.ModelType = "llm"
		schema, err := c.ModelSchema(ctx, "plugboard/openai_compatible", d, "u1")
		if err != nil || schema == nil || schema.FetchFrom != "customizable-model" || len(schema.ParameterRules) != 5 {
			t.Fatalf("schema %+v, %v", schema, err)
		}
	})
}
