package runtime

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/daemon/protocol"
)

// handRequestLine is the request line as the daemon hand-encoded it before
// encoding/json wrote it (its code, kept to pin that the switch changed no
// byte and to measure it): fixed members around the session id and the
// encoded data.
func handRequestLine(id string, req *protocol.RequestData) ([]byte, error) {
	const prefix = `{"session_id":"`
	const middle = `","conversation_id":null,"message_id":null,"app_id":null,"endpoint_id":null,"context":{},"event":"request","data":`
	data, err := json.Marshal(req.Wire())
	if err != nil {
		return nil, err
	}
	line := make([]byte, 0, len(prefix)+len(id)+len(middle)+len(data)+2)
	line = append(line, prefix...)
	line = append(line, id...)
	line = append(line, middle...)
	line = append(line, data...)
	return append(line, '}', '\n'), nil
}

// handCancelLine is the cancel line as the daemon hand-encoded it.
func handCancelLine(id string) []byte {
	return []byte(`{"session_id":"` + id + `","event":"cancel"}` + "\n")
}

// wireRequests is a range of requests: empty and nil maps, unicode, quotes,
// control characters, HTML characters, large parameters.
func wireRequests() map[string]*protocol.RequestData {
	tool := func(action string) *protocol.RequestData {
		return &protocol.RequestData{Type: protocol.TypeTool, Action: action, Provider: "p", Tool: "t"}
	}
	big := map[string]any{"text": strings.Repeat("wörd \"q\" ", 100_000), "n": 1e300, "list": make([]any, 1000)}
	for i := range 200 {
		big[strings.Repeat("k", i+1)] = i
	}
	return map[string]*protocol.RequestData{
		"InvokeNilMaps":   tool(protocol.ActionInvokeTool),
		"InvokeEmptyMaps": {Type: protocol.TypeTool, Action: protocol.ActionInvokeTool, Provider: "p", Tool: "t", ToolParameters: map[string]any{}, Credentials: map[string]any{}},
		"Unicode": {UserID: "ユーザー", Type: protocol.TypeTool, Action: protocol.ActionInvokeTool, Provider: "prövider", Tool: "t✓",
			ToolParameters: map[string]any{"text": "héllo 🌍 \u2028\u2029", "ключ": "значение"}, Credentials: map[string]any{"k": "v"}, CredentialType: protocol.CredentialOAuth2},
		"QuotesAndControls": {UserID: `u"1\`, Type: protocol.TypeTool, Action: protocol.ActionInvokeTool, Provider: "p", Tool: "t",
			ToolParameters: map[string]any{"q": "say \"hi\"\\", "ctl": "a\x00b\x01c\td\ne\rf\x7f", "html": "<script>&</script>", "bad": "\xff\xfe"}},
		"Nested": {Type: protocol.TypeTool, Action: protocol.ActionInvokeTool, Provider: "p", Tool: "t",
			ToolParameters: map[string]any{"obj": map[string]any{"a": []any{1, "two", nil, true, map[string]any{}}}}, Credentials: map[string]any{"api_key": "sk-\"x\""}},
		"Large":             {Type: protocol.TypeTool, Action: protocol.ActionInvokeTool, Provider: "p", Tool: "t", ToolParameters: big},
		"Validate":          {Type: protocol.TypeTool, Action: protocol.ActionValidateToolCredentials, Provider: "p", CredentialType: "api-key", Credentials: map[string]any{"k": "ü\n"}},
		"RuntimeParameters": tool(protocol.ActionGetToolRuntimeParameters),
	}
}

// TestRequestLineWire pins the request lines the daemon writes: json.Marshal
// of protocol.Request byte for byte, the same bytes the former hand encoding
// wrote for the daemon's session ids, one line, and read back member by
// member in the order Dify's daemon sends them.
func TestRequestLineWire(t *testing.T) {
	for name, req := range wireRequests() {
		t.Run(name, func(t *testing.T) {
			id := newSessionID()
			line, err := requestLine(id, req)
			if err != nil {
				t.Fatal(err)
			}
			wire := req.Wire()
			want, _ := json.Marshal(protocol.Request{SessionID: id, Context: json.RawMessage(`{}`), Event: protocol.EventRequest, Data: &wire})
			if !bytes.Equal(line, append(want, '\n')) {
				t.Fatalf("line differs from json.Marshal of protocol.Request:\n%.300s\n%.300s", line, want)
			}
			if hand, _ := handRequestLine(id, req); !bytes.Equal(line, hand) {
				t.Fatalf("line differs from the former hand encoding:\n%.300s\n%.300s", line, hand)
			}
			if i := bytes.IndexAny(line, "\r\n"); i != len(line)-1 {
				t.Fatalf("line break at %d of %d", i, len(line))
			}
			wantKeys := []string{"session_id", "conversation_id", "message_id", "app_id", "endpoint_id", "context", "event", "data"}
			if keys := topKeys(t, line); !reflect.DeepEqual(keys, wantKeys) {
				t.Fatalf("members %v, want %v", keys, wantKeys)
			}
			var got protocol.Request
			if err := json.Unmarshal(line, &got); err != nil {
				t.Fatal(err)
			}
			if got.SessionID != id || got.Event != protocol.EventRequest || string(got.Context) != "{}" ||
				got.ConversationID != nil || got.MessageID != nil || got.AppID != nil || got.EndpointID != nil {
				t.Fatalf("envelope read back %+v", got)
			}
			if !reflect.DeepEqual(roundTrip(t, *got.Data), roundTrip(t, wire)) {
				t.Fatalf("data read back %+v, want %+v", got.Data, wire)
			}
		})
	}
}

// TestRequestLineOddSessionID: a session id with quotes, unicode or control
// characters (the daemon makes none) still gives one valid line that reads
// back to it, which the former hand encoding did not.
func TestRequestLineOddSessionID(t *testing.T) {
	for _, id := range []string{`a"b`, `back\slash`, "ünï✓", "ctl\x01\n", "<&>"} {
		line, err := requestLine(id, wireRequests()["InvokeNilMaps"])
		if err != nil {
			t.Fatal(err)
		}
		var req protocol.Request
		if err := json.Unmarshal(line, &req); err != nil || req.SessionID != id || bytes.IndexByte(line, '\n') != len(line)-1 {
			t.Fatalf("id %q: line %s: %v (read back %q)", id, line, err, req.SessionID)
		}
		var c protocol.Request
		if err := json.Unmarshal(cancelLine(id), &c); err != nil || c.SessionID != id || c.Event != protocol.EventCancel {
			t.Fatalf("id %q: cancel line %s: %v", id, cancelLine(id), err)
		}
	}
}

// TestCancelLineWire pins the cancel line: json.Marshal of protocol.Cancel,
// the former hand encoding's bytes, and what the SDK (sdk.Serve) reads as
// protocol.Request.
func TestCancelLineWire(t *testing.T) {
	id := newSessionID()
	line := cancelLine(id)
	want, _ := json.Marshal(protocol.Cancel{SessionID: id, Event: protocol.EventCancel})
	if !bytes.Equal(line, append(want, '\n')) || !bytes.Equal(line, handCancelLine(id)) {
		t.Fatalf("cancel line %q, want %q (json.Marshal) and %q (former)", line, want, handCancelLine(id))
	}
	var req protocol.Request
	if err := json.Unmarshal(line, &req); err != nil || !reflect.DeepEqual(req, protocol.Request{SessionID: id, Event: protocol.EventCancel}) {
		t.Fatalf("read back as a request %+v: %v", req, err)
	}
}

// topKeys returns the member names of the JSON object line, in order.
func topKeys(t *testing.T, line []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(line))
	var keys []string
	if _, err := dec.Token(); err != nil { // {
		t.Fatal(err)
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// roundTrip is v as encoding/json reads it back generically.
func roundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// BenchmarkRequestLine compares the request line by encoding/json (as
// written) with the former hand encoding.
func BenchmarkRequestLine(b *testing.B) {
	req := &protocol.RequestData{UserID: "bench", Type: protocol.TypeTool, Action: protocol.ActionInvokeTool,
		Provider: "gotools", Tool: "echo", ToolParameters: map[string]any{"text": "hello"}, Credentials: map[string]any{}}
	id := newSessionID()
	b.Run("Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = requestLine(id, req)
		}
	})
	b.Run("Hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = handRequestLine(id, req)
		}
	})
}
