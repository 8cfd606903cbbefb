// Package sdktest is the daemon's end of the runtime protocol for a
// plugin's own tests: it serves an *sdk.Plugin over pipes, sends request
// lines as Dify's daemon writes them, and collects each session's lines.
package sdktest

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/sdk"
)

// Conn is a plugin being served, seen from the daemon.
type Conn struct {
	in  *io.PipeWriter
	wmu sync.Mutex // serialises writes to in

	calls atomic.Pointer[CallBackFunc] // answers the plugin's calls back

	mu       sync.Mutex
	cond     *sync.Cond
	sessions map[string][]Message // session id → messages so far
	ended    bool                 // the plugin's output ended
}

// Message is one session message the plugin wrote: its type (stream, end,
// error), its data, and the whole line as written.
type Message struct {
	Type string
	Data json.RawMessage
	Line string
}

// Serve serves p on pipes until the test ends.
func Serve(tb testing.TB, p *sdk.Plugin) *Conn {
	tb.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	c := &Conn{in: inW, sessions: map[string][]Message{}}
	c.cond = sync.NewCond(&c.mu)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Serve(context.Background(), inR, outW)
		outW.Close()
	}()
	go c.read(outR)
	tb.Cleanup(func() { inW.Close(); <-done; outR.Close() })
	return c
}

func (c *Conn) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 8<<20)
	for sc.Scan() {
		var ev protocol.Event
		var sd protocol.SessionData
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Event != protocol.EventSession || json.Unmarshal(ev.Data, &sd) != nil {
			continue // heartbeats and logs
		}
		if sd.Type == protocol.SessionInvoke {
			go c.answer(ev.SessionID, sd.Data)
		}
		c.mu.Lock()
		c.sessions[ev.SessionID] = append(c.sessions[ev.SessionID], Message{Type: sd.Type, Data: sd.Data, Line: sc.Text()})
		c.cond.Broadcast()
		c.mu.Unlock()
	}
	c.mu.Lock()
	c.ended = true
	c.cond.Broadcast()
	c.mu.Unlock()
}

// ModelRequest sends a model request: action with data fields flattened
// beside user_id, type and action, as Dify's daemon sends them.
func (c *Conn) ModelRequest(tb testing.TB, session, action string, fields map[string]any) {
	tb.Helper()
	data := map[string]any{"user_id": "test-user", "type": protocol.TypeModel, "action": action, "credentials": map[string]any{}}
	for k, v := range fields {
		data[k] = v
	}
	line, err := json.Marshal(map[string]any{"session_id": session, "event": protocol.EventRequest, "data": data})
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.write(line); err != nil {
		tb.Fatalf("write to the plugin: %v", err)
	}
}

// Cancel sends the daemon's cancel of a session.
func (c *Conn) Cancel(tb testing.TB, session string) {
	tb.Helper()
	line, _ := json.Marshal(protocol.Cancel{SessionID: session, Event: protocol.EventCancel})
	if err := c.write(line); err != nil {
		tb.Fatalf("write to the plugin: %v", err)
	}
}

// Session waits for the session's end and returns its messages, end included.
func (c *Conn) Session(tb testing.TB, session string) []Message {
	tb.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		msgs := c.sessions[session]
		if n := len(msgs); n > 0 && msgs[n-1].Type == protocol.SessionEnd {
			return msgs
		}
		if c.ended {
			tb.Fatalf("the plugin's output ended before session %s did", session)
		}
		c.cond.Wait()
	}
}

// Chunks returns the data of the session's stream messages, failing the
// test when the session ended with an error.
func Chunks(tb testing.TB, msgs []Message) []json.RawMessage {
	tb.Helper()
	var out []json.RawMessage
	for _, m := range msgs {
		switch m.Type {
		case protocol.SessionError:
			tb.Fatalf("the session ended with an error: %s", m.Data)
		case protocol.SessionStream:
			out = append(out, m.Data)
		}
	}
	return out
}

// Error returns the session's error, failing the test when there is none.
func Error(tb testing.TB, msgs []Message) protocol.ErrorData {
	tb.Helper()
	for _, m := range msgs {
		if m.Type == protocol.SessionError {
			var e protocol.ErrorData
			if err := json.Unmarshal(m.Data, &e); err != nil {
				tb.Fatalf("error data %s: %v", m.Data, err)
			}
			return e
		}
	}
	tb.Fatalf("the session ended without an error: %d messages", len(msgs))
	return protocol.ErrorData{}
}

// LLMChunks decodes the session's stream messages as LLM chunks.
func LLMChunks(tb testing.TB, msgs []Message) []sdk.LLMChunk {
	tb.Helper()
	var out []sdk.LLMChunk
	for _, raw := range Chunks(tb, msgs) {
		var ch sdk.LLMChunk
		if err := json.Unmarshal(raw, &ch); err != nil {
			tb.Fatalf("an LLM chunk %s: %v", raw, err)
		}
		out = append(out, ch)
	}
	return out
}

// Decode decodes raw into a new T, failing the test when it does not.
func Decode[T any](tb testing.TB, raw json.RawMessage) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		tb.Fatalf("decode %s: %v", raw, err)
	}
	return v
}
