package sdk_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"testing"

	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/sdk"
)

// conn is the daemon's end of a plugin served through io.Pipe.
type conn struct {
	in     *io.PipeWriter
	events chan received
	done   chan error
	parked map[string][]received // other sessions' events seen while collecting one
}

// received is one line the plugin wrote, decoded and as written.
type received struct {
	protocol.Event
	line string
}

// MustServe serves p on pipes and returns the daemon's end; the pipes are
// closed when the test ends.
func MustServe(tb testing.TB, p *sdk.Plugin) *conn {
	tb.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	c := &conn{in: inW, events: make(chan received, 4096), done: make(chan error, 1),
		parked: map[string][]received{}}
	go func() {
		err := p.Serve(context.Background(), inR, outW)
		outW.Close()
		c.done <- err
	}()
	go c.readEvents(tb, outR)
	tb.Cleanup(func() { inW.Close(); outR.Close() })
	return c
}

func (c *conn) readEvents(tb testing.TB, r io.Reader) {
	defer close(c.events)
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 8<<20)
	for sc.Scan() {
		var ev protocol.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			tb.Errorf("plugin wrote a line that is not JSON: %q: %v", sc.Text(), err)
			return
		}
		c.events <- received{Event: ev, line: sc.Text()}
	}
}

// MustSend writes one JSON line to the plugin.
func (c *conn) MustSend(tb testing.TB, v any) {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := c.in.Write(append(b, '\n')); err != nil {
		tb.Fatalf("write to plugin: %v", err)
	}
}

// MustInvoke sends an invoke_tool request.
func (c *conn) MustInvoke(tb testing.TB, session, provider, tool string, params map[string]any) {
	tb.Helper()
	c.MustRequest(tb, session, protocol.RequestData{
		Type: protocol.TypeTool, Action: protocol.ActionInvokeTool,
		Provider: provider, Tool: tool, ToolParameters: params,
	})
}

// MustRequest sends a request with the given data.
func (c *conn) MustRequest(tb testing.TB, session string, d protocol.RequestData) {
	tb.Helper()
	c.MustSend(tb, protocol.Request{SessionID: session, Event: protocol.EventRequest, Data: &d})
}

// Next returns the next event, failing the test when the output ended.
func (c *conn) Next(tb testing.TB) protocol.Event {
	tb.Helper()
	return c.next(tb).Event
}

func (c *conn) next(tb testing.TB) received {
	tb.Helper()
	ev, ok := <-c.events
	if !ok {
		tb.Fatal("plugin output ended")
	}
	return ev
}

// MustSession collects the session's messages up to and including its end,
// skipping heartbeats, logs and other sessions' events.
func (c *conn) MustSession(tb testing.TB, session string) []protocol.SessionData {
	tb.Helper()
	var got []protocol.SessionData
	for _, ev := range c.collect(tb, session) {
		got = append(got, ev.data)
	}
	return got
}

// MustSessionLines returns the lines the plugin wrote for the session, up
// to and including its end, exactly as written.
func (c *conn) MustSessionLines(tb testing.TB, session string) []string {
	tb.Helper()
	var got []string
	for _, ev := range c.collect(tb, session) {
		got = append(got, ev.line)
	}
	return got
}

// sessionEvent is one of a session's events with its decoded data.
type sessionEvent struct {
	received
	data protocol.SessionData
}

// collect reads the session's events up to and including its end,
// skipping heartbeats, logs and other sessions' events.
func (c *conn) collect(tb testing.TB, session string) []sessionEvent {
	tb.Helper()
	var got []sessionEvent
	for {
		ev := c.nextOf(tb, session)
		if ev.Event.Event != protocol.EventSession {
			continue
		}
		if ev.SessionID != session {
			c.parked[ev.SessionID] = append(c.parked[ev.SessionID], ev)
			continue
		}
		var sd protocol.SessionData
		if err := json.Unmarshal(ev.Data, &sd); err != nil {
			tb.Fatalf("session data %s: %v", ev.Data, err)
		}
		got = append(got, sessionEvent{received: ev, data: sd})
		if sd.Type == protocol.SessionEnd {
			return got
		}
	}
}

// nextOf returns the session's first parked event, or the next event.
func (c *conn) nextOf(tb testing.TB, session string) received {
	tb.Helper()
	if evs := c.parked[session]; len(evs) > 0 {
		c.parked[session] = evs[1:]
		return evs[0]
	}
	return c.next(tb)
}

// MustToolMessages decodes the stream chunks of a session's messages.
func MustToolMessages(tb testing.TB, msgs []protocol.SessionData) []protocol.ToolMessage {
	tb.Helper()
	var out []protocol.ToolMessage
	for _, m := range msgs {
		if m.Type != protocol.SessionStream {
			continue
		}
		var tm protocol.ToolMessage
		if err := json.Unmarshal(m.Data, &tm); err != nil {
			tb.Fatalf("tool message %s: %v", m.Data, err)
		}
		out = append(out, tm)
	}
	return out
}

// MustError returns the session's error frame, failing when there is none or
// when it is not followed by end.
func MustError(tb testing.TB, msgs []protocol.SessionData) protocol.ErrorData {
	tb.Helper()
	for i, m := range msgs {
		if m.Type != protocol.SessionError {
			continue
		}
		if i+1 >= len(msgs) || msgs[i+1].Type != protocol.SessionEnd {
			tb.Fatalf("error frame not followed by end: %v", msgs)
		}
		var e protocol.ErrorData
		if err := json.Unmarshal(m.Data, &e); err != nil {
			tb.Fatalf("error data %s: %v", m.Data, err)
		}
		return e
	}
	tb.Fatalf("no error frame in %d messages", len(msgs))
	return protocol.ErrorData{}
}

// MustUnmarshal decodes raw into a new T.
func MustUnmarshal[T any](tb testing.TB, raw json.RawMessage) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		tb.Fatalf("decode %s: %v", raw, err)
	}
	return v
}
