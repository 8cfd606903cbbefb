package client_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
)

// These tests feed the client SSE replies the real daemon never sends
// (oversized or out-of-order chunks, broken frames), so they serve canned
// bytes; the well-formed paths are tested against the real daemon in
// daemon/api.

// MustStream serves body as a dispatch reply and opens it with the client.
func MustStream(tb testing.TB, body string, opts ...client.Option) *client.ToolStream {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, body)
	}))
	tb.Cleanup(srv.Close)
	s, err := client.New(srv.URL, "k", opts...).InvokeTool(context.Background(), "a/b", apispec.InvokeToolData{}, "u")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// frame wraps a tool message in a success frame.
func frame(msg string) string {
	return `data: {"code":0,"message":"success","data":` + msg + "}\n\n"
}

// chunk is a blob_chunk frame.
func chunk(seq int, data []byte, end bool) string {
	return frame(fmt.Sprintf(`{"type":"blob_chunk","message":{"id":"b1","sequence":%d,"total_length":0,"blob":%q,"end":%t},"meta":{"mime_type":"image/png","filename":"x.png"}}`,
		seq, base64.StdEncoding.EncodeToString(data), end))
}

// drainAll reads a stream to its end or error.
func drainAll(s *client.ToolStream) ([]*client.Message, error) {
	var msgs []*client.Message
	for {
		m, err := s.Next()
		if errors.Is(err, io.EOF) {
			return msgs, nil
		}
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, m)
	}
}

func TestToolStream(t *testing.T) {
	t.Run("OKTyped", func(t *testing.T) {
		s := MustStream(t, frame(`{"type":"text","message":{"text":"hi"},"meta":null}`)+
			frame(`{"type":"json","message":{"json_object":{"a":1}},"meta":null}`)+
			frame(`{"type":"link","message":{"text":"https://x"},"meta":null}`)+
			frame(`{"type":"variable","message":{"variable_name":"v","variable_value":2,"stream":false},"meta":null}`))
		msgs, err := drainAll(s)
		if err != nil || len(msgs) != 4 {
			t.Fatalf("messages = %v, %v", msgs, err)
		}
		if msgs[0].Text != "hi" || msgs[1].JSON.(map[string]any)["a"] != 1.0 || msgs[2].Link != "https://x" ||
			msgs[3].Variable.VariableName != "v" {
			t.Fatalf("messages = %+v %+v %+v %+v", msgs[0], msgs[1], msgs[2], msgs[3])
		}
	})
	t.Run("OKBlobReassembled", func(t *testing.T) {
		a, b := bytes.Repeat([]byte{1}, 8<<10), []byte{2, 3}
		msgs, err := drainAll(MustStream(t, chunk(0, a, false)+chunk(1, b, false)+chunk(2, nil, true)))
		if err != nil || len(msgs) != 1 {
			t.Fatalf("messages = %v, %v", msgs, err)
		}
		m := msgs[0]
		if m.Type != "blob" || !bytes.Equal(m.Blob, append(a, b...)) || m.MIME != "image/png" || m.Filename != "x.png" {
			t.Fatalf("blob = %s", m)
		}
	})
	t.Run("OKLongLine", func(t *testing.T) {
		long := strings.Repeat("x", 3<<20)
		msgs, err := drainAll(MustStream(t, frame(`{"type":"text","message":{"text":"`+long+`"},"meta":null}`)))
		if err != nil || len(msgs) != 1 || msgs[0].Text != long {
			t.Fatalf("long line: %d messages, %v", len(msgs), err)
		}
	})
	t.Run("ErrChunkTooLarge", func(t *testing.T) {
		_, err := drainAll(MustStream(t, chunk(0, make([]byte, 8<<10+1), true)))
		mustInvalid(t, err, "chunk limit")
	})
	t.Run("ErrOutOfSequence", func(t *testing.T) {
		_, err := drainAll(MustStream(t, chunk(0, []byte{1}, false)+chunk(2, []byte{1}, true)))
		mustInvalid(t, err, "out of sequence")
	})
	t.Run("ErrBlobTooLarge", func(t *testing.T) {
		_, err := drainAll(MustStream(t, chunk(0, make([]byte, 600), false)+chunk(1, make([]byte, 600), true),
			client.WithMaxBlob(1000)))
		mustInvalid(t, err, "1000-byte limit")
	})
	t.Run("ErrUnfinishedBlob", func(t *testing.T) {
		_, err := drainAll(MustStream(t, chunk(0, []byte{1}, false)))
		mustInvalid(t, err, "no end chunk")
	})
	t.Run("ErrFrame", func(t *testing.T) {
		inner, _ := json.Marshal(map[string]any{"error_type": "ToolError", "message": "boom"})
		body, _ := json.Marshal(apispec.ErrorBody{Message: string(inner), ErrorType: apispec.ErrInvoke})
		env, _ := json.Marshal(map[string]any{"code": -500, "message": string(body), "data": nil})
		msgs, err := drainAll(MustStream(t, frame(`{"type":"text","message":{"text":"a"},"meta":null}`)+"data: "+string(env)+"\n\n"))
		var ce *client.Error
		if len(msgs) != 1 || !errors.As(err, &ce) || ce.Code != -500 || ce.Type != apispec.ErrInvoke {
			t.Fatalf("messages %v, error %#v", msgs, err)
		}
		if typ, msg := ce.PluginError(); typ != "ToolError" || msg != "boom" {
			t.Fatalf("plugin error = %q %q", typ, msg)
		}
	})
	t.Run("ErrNotEnvelope", func(t *testing.T) {
		_, err := drainAll(MustStream(t, "data: nonsense\n\n"))
		if err == nil || !strings.Contains(err.Error(), "not a JSON envelope") {
			t.Fatalf("error = %v", err)
		}
	})
}

// mustInvalid asserts err is plugboard.EINVALID and mentions want.
func mustInvalid(tb testing.TB, err error, want string) {
	tb.Helper()
	if plugboard.ErrorCode(err) != plugboard.EINVALID || !strings.Contains(err.Error(), want) {
		tb.Fatalf("error = %v, want invalid mentioning %q", err, want)
	}
}

func TestErrorReply(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"code":-404,"message":"{\"message\":\"plugin not found\",\"error_type\":\"PluginNotFoundError\",\"args\":null}","data":null}`)
	}))
	defer srv.Close()
	_, err := client.New(srv.URL, "k").PluginStatus(context.Background(), "a/b")
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != 404 || ce.Type != apispec.ErrPluginNotFound || ce.Message != "plugin not found" {
		t.Fatalf("error = %#v", err)
	}
	if plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
		t.Fatalf("plugboard.ErrorCode = %s", plugboard.ErrorCode(err))
	}
}
