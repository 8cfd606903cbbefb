package sdk_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/sdk"
	"github.com/plugboard/plugboard/sdk/sdktest"
)

// callBackPlugin's tool "use" makes one call back of each kind and writes
// what it got as text.
func callBackPlugin(opts ...sdk.Option) *sdk.Plugin {
	p := sdk.New(opts...)
	p.Tool("cb", "use", func(ctx context.Context, req *sdk.Request, w *sdk.Writer) error {
		s := w.Session()
		st := s.Storage()
		if err := st.Set(ctx, "k", []byte("hi")); err != nil {
			return err
		}
		v, err := st.Get(ctx, "k")
		if err != nil {
			return err
		}
		ok, err := st.Exist(ctx, "k")
		if err != nil {
			return err
		}
		sum, err := s.Summary(ctx, "a long text", "")
		if err != nil {
			return err
		}
		llm, err := s.InvokeLLM(ctx, sdk.LLMCall{Provider: "acme/m/m", Model: "m1", Stream: true,
			PromptMessages: []protocol.PromptMessage{{Role: "user", Content: protocol.Content{Text: "hi"}}}})
		if err != nil {
			return err
		}
		var text strings.Builder
		for {
			c, err := llm.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			text.WriteString(c.Delta.Message.Content.Text)
		}
		tool, err := s.InvokeTool(ctx, sdk.ToolInvocation{Provider: "acme/t/t", Tool: "x"})
		if err != nil {
			return err
		}
		m, err := tool.Next()
		if err != nil {
			return err
		}
		return w.Text(fmt.Sprintf("%s %v %s %s %s", v, ok, sum, text.String(), m.Message))
	})
	p.Tool("cb", "denied", func(ctx context.Context, req *sdk.Request, w *sdk.Writer) error {
		_, err := w.Session().Storage().Get(ctx, "k")
		return err
	})
	return p
}

func TestCallBacks(t *testing.T) {
	c := sdktest.Serve(t, callBackPlugin())
	var mu sync.Mutex
	store := map[string]string{}
	var types []string
	c.AnswerCallBacks(func(typ string, req map[string]any) ([]any, string) {
		mu.Lock()
		defer mu.Unlock()
		types = append(types, typ)
		switch typ {
		case "storage":
			key := req["key"].(string)
			switch req["opt"] {
			case "set":
				store[key] = req["value"].(string)
				return []any{map[string]any{"data": "ok"}}, ""
			case "get":
				return []any{map[string]any{"data": store[key]}}, ""
			case "exist":
				_, ok := store[key]
				return []any{map[string]any{"data": ok, "exist_num": 1}}, ""
			}
		case "system_summary":
			return []any{map[string]any{"summary": "short"}}, ""
		case "llm":
			if req["mode"] != "chat" || req["provider"] != "acme/m/m" || req["model_type"] != "llm" {
				return nil, fmt.Sprintf("bad llm request %v", req)
			}
			return []any{
				map[string]any{"model": "m1", "delta": map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": "Hel"}}},
				map[string]any{"model": "m1", "delta": map[string]any{"index": 1, "message": map[string]any{"role": "assistant", "content": "lo"}}},
			}, ""
		case "tool":
			if req["tool_type"] != "builtin" || req["tool"] != "x" {
				return nil, fmt.Sprintf("bad tool request %v", req)
			}
			return []any{map[string]any{"type": "text", "message": map[string]any{"text": "T"}, "meta": nil}}, ""
		}
		return nil, "unexpected " + typ
	})
	c.ToolRequest(t, "s1", "cb", "use", nil)
	chunks := sdktest.Chunks(t, c.Session(t, "s1"))
	if len(chunks) != 1 || !strings.Contains(string(chunks[0]), `"text":"hi true short Hello {\"text\":\"T\"}"`) {
		t.Fatalf("chunks %s", chunks)
	}
	if store["k"] != hex.EncodeToString([]byte("hi")) {
		t.Fatalf("stored %q, want the value in hex", store["k"])
	}
	want := "storage storage storage system_summary llm tool"
	if got := strings.Join(types, " "); got != want {
		t.Fatalf("calls back %s, want %s", got, want)
	}
	// The invoke lines are Dify's shape: type, backwards_request_id, request.
	for _, m := range c.Session(t, "s1") {
		if m.Type != protocol.SessionInvoke {
			continue
		}
		var inv protocol.InvokeData
		if err := json.Unmarshal(m.Data, &inv); err != nil || len(inv.RequestID) != 32 || inv.Request == nil {
			t.Fatalf("invoke message %s", m.Line)
		}
	}
}

func TestCallBackErrors(t *testing.T) {
	t.Run("ErrDaemon", func(t *testing.T) {
		c := sdktest.Serve(t, callBackPlugin())
		c.AnswerCallBacks(func(string, map[string]any) ([]any, string) {
			return nil, "permission denied, you need to enable storage access in plugin manifest"
		})
		c.ToolRequest(t, "s1", "cb", "denied", nil)
		e := sdktest.Error(t, c.Session(t, "s1"))
		if !strings.Contains(e.Message, "call back storage: permission denied, you need to enable storage access") {
			t.Fatalf("error %+v", e)
		}
	})
	t.Run("ErrTimeout", func(t *testing.T) {
		c := sdktest.Serve(t, callBackPlugin(sdk.WithCallBackTimeout(50*time.Millisecond)))
		block := make(chan struct{})
		t.Cleanup(func() { close(block) })
		c.AnswerCallBacks(func(string, map[string]any) ([]any, string) { <-block; return nil, "late" })
		c.ToolRequest(t, "s1", "cb", "denied", nil)
		e := sdktest.Error(t, c.Session(t, "s1"))
		if !strings.Contains(e.Message, "call back storage: no answer from the daemon within 50ms") {
			t.Fatalf("error %+v", e)
		}
	})
}

// TestCallBackInline: a handler running inline on the input reader (a long
// handoff delay) still gets its answer: calling back hands the input off.
func TestCallBackInline(t *testing.T) {
	c := sdktest.Serve(t, callBackPlugin(sdk.WithHandoffDelay(time.Hour)))
	c.AnswerCallBacks(func(typ string, req map[string]any) ([]any, string) {
		return []any{map[string]any{"data": hex.EncodeToString([]byte("v"))}}, ""
	})
	c.ToolRequest(t, "s1", "cb", "denied", nil) // one storage get, answered
	msgs := c.Session(t, "s1")
	for _, m := range msgs {
		if m.Type == protocol.SessionError {
			t.Fatalf("session failed: %s", m.Data)
		}
	}
}
