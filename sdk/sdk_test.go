package sdk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/sdk"
)

// newTestPlugin registers the tools the tests drive.
func newTestPlugin(opts ...sdk.Option) *sdk.Plugin {
	p := sdk.New(opts...)
	p.Tool("t", "words", func(ctx context.Context, req *sdk.Request, w *sdk.Writer) error {
		for _, word := range strings.Fields(req.String("text")) {
			if err := w.Text(word + " "); err != nil {
				return err
			}
		}
		return nil
	})
	p.Tool("t", "json", func(ctx context.Context, req *sdk.Request, w *sdk.Writer) error {
		return w.JSON(map[string]any{"n": req.Int("n"), "ok": req.Bool("ok")})
	})
	p.Tool("t", "blob", func(ctx context.Context, req *sdk.Request, w *sdk.Writer) error {
		return w.Blob(blobData(req.Int("size")), "application/octet-stream", "data.bin")
	})
	p.Tool("t", "fail", func(ctx context.Context, req *sdk.Request, w *sdk.Writer) error {
		return errors.New("it went wrong")
	})
	p.Tool("t", "panic", func(ctx context.Context, req *sdk.Request, w *sdk.Writer) error {
		panic("boom")
	})
	p.ValidateCredentials("t", func(ctx context.Context, c sdk.Credentials) error {
		if c.String("api_key") != "good" {
			return errors.New("api_key is not good")
		}
		return nil
	})
	return p
}

func blobData(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

func TestServe(t *testing.T) {
	t.Run("OKHeartbeatFirst", func(t *testing.T) {
		c := MustServe(t, newTestPlugin())
		if ev := c.Next(t); ev.Event != protocol.EventHeartbeat {
			t.Fatalf("first event = %q, want heartbeat", ev.Event)
		}
	})
	t.Run("OKHeartbeatRepeats", func(t *testing.T) {
		c := MustServe(t, newTestPlugin(sdk.WithHeartbeatInterval(time.Millisecond)))
		for range 3 {
			if ev := c.Next(t); ev.Event != protocol.EventHeartbeat {
				t.Fatalf("event = %q, want heartbeat", ev.Event)
			}
		}
	})
	t.Run("OKExitOnStdinClose", func(t *testing.T) {
		c := MustServe(t, newTestPlugin())
		c.in.Close()
		if err := <-c.done; err != nil {
			t.Fatalf("Serve = %v, want nil", err)
		}
	})
	t.Run("OKExitCancelsRunningHandler", func(t *testing.T) {
		started := make(chan struct{})
		p := sdk.New()
		p.Tool("t", "wait", func(ctx context.Context, req *sdk.Request, w *sdk.Writer) error {
			close(started)
			<-ctx.Done()
			return ctx.Err()
		})
		c := MustServe(t, p)
		c.MustInvoke(t, "s1", "t", "wait", nil)
		<-started
		c.in.Close()
		if err := <-c.done; err != nil {
			t.Fatalf("Serve = %v, want nil", err)
		}
	})
	t.Run("OKSkipsGarbageLines", func(t *testing.T) {
		c := MustServe(t, newTestPlugin())
		c.in.Write([]byte("not json\n\n{\"config\":true}\n"))
		c.MustInvoke(t, "s1", "t", "words", map[string]any{"text": "still here"})
		if got := texts(t, c.MustSession(t, "s1")); got != "still here " {
			t.Fatalf("text = %q", got)
		}
	})
}

func texts(t *testing.T, msgs []protocol.SessionData) string {
	t.Helper()
	var b strings.Builder
	for _, m := range MustToolMessages(t, msgs) {
		if m.Type != protocol.MessageText {
			t.Fatalf("chunk type %q, want text", m.Type)
		}
		b.WriteString(MustUnmarshal[protocol.TextMessage](t, m.Message).Text)
	}
	return b.String()
}

func TestInvoke(t *testing.T) {
	for name, opts := range map[string][]sdk.Option{
		"Inline":    nil,
		"Goroutine": {sdk.WithHandoffDelay(0)},
	} {
		t.Run(name, func(t *testing.T) { testInvoke(t, opts) })
	}
}

func testInvoke(t *testing.T, opts []sdk.Option) {
	c := MustServe(t, newTestPlugin(opts...))
	t.Run("OKText", func(t *testing.T) {
		c.MustInvoke(t, "text", "t", "words", map[string]any{"text": "hello \"big\"\n world"})
		msgs := c.MustSession(t, "text")
		if got := texts(t, msgs); got != `hello "big" world ` {
			t.Fatalf("text = %q", got)
		}
		if len(msgs) != 4 || msgs[3].Type != protocol.SessionEnd {
			t.Fatalf("want 3 chunks and end, got %v", msgs)
		}
	})
	t.Run("OKJSON", func(t *testing.T) {
		c.MustInvoke(t, "json", "t", "json", map[string]any{"n": "42", "ok": true})
		tm := MustToolMessages(t, c.MustSession(t, "json"))
		if len(tm) != 1 || tm[0].Type != protocol.MessageJSON {
			t.Fatalf("messages = %v", tm)
		}
		got := MustUnmarshal[protocol.JSONMessage](t, tm[0].Message).JSONObject.(map[string]any)
		if got["n"] != 42.0 || got["ok"] != true {
			t.Fatalf("json_object = %v", got)
		}
	})
	t.Run("ErrUnknownTool", func(t *testing.T) {
		c.MustInvoke(t, "unknown", "t", "nope", nil)
		e := MustError(t, c.MustSession(t, "unknown"))
		if e.ErrorType != sdk.ErrTypeNotFound || !strings.Contains(e.Message, `"nope"`) {
			t.Fatalf("error = %+v", e)
		}
	})
	t.Run("ErrUnknownProvider", func(t *testing.T) {
		c.MustInvoke(t, "unknownp", "other", "words", nil)
		e := MustError(t, c.MustSession(t, "unknownp"))
		if !strings.Contains(e.Message, `provider "other"`) {
			t.Fatalf("error = %+v", e)
		}
	})
	t.Run("ErrHandler", func(t *testing.T) {
		c.MustInvoke(t, "fail", "t", "fail", nil)
		e := MustError(t, c.MustSession(t, "fail"))
		if e.ErrorType != sdk.ErrTypeInvoke || e.Message != "it went wrong" {
			t.Fatalf("error = %+v", e)
		}
	})
	t.Run("ErrPanic", func(t *testing.T) {
		c.MustInvoke(t, "panic", "t", "panic", nil)
		e := MustError(t, c.MustSession(t, "panic"))
		if e.ErrorType != sdk.ErrTypePanic || !strings.Contains(e.Message, "boom") {
			t.Fatalf("error = %+v", e)
		}
		// The plugin survives the panic.
		c.MustInvoke(t, "after", "t", "words", map[string]any{"text": "alive"})
		if got := texts(t, c.MustSession(t, "after")); got != "alive " {
			t.Fatalf("text after panic = %q", got)
		}
	})
	t.Run("ErrUnsupportedAction", func(t *testing.T) {
		c.MustRequest(t, "act", protocol.RequestData{Type: protocol.TypeTool, Action: "invoke_llm", Provider: "t"})
		e := MustError(t, c.MustSession(t, "act"))
		if e.ErrorType != sdk.ErrTypeBadRequest || !strings.Contains(e.Message, "invoke_llm") {
			t.Fatalf("error = %+v", e)
		}
	})
}

func TestBlob(t *testing.T) {
	for _, size := range []int{0, 1, protocol.MaxBlobChunk, 2*protocol.MaxBlobChunk + 100} {
		t.Run("OK", func(t *testing.T) {
			c := MustServe(t, newTestPlugin())
			c.MustInvoke(t, "b", "t", "blob", map[string]any{"size": size})
			got := reassemble(t, MustToolMessages(t, c.MustSession(t, "b")), size)
			if !bytes.Equal(got, blobData(size)) {
				t.Fatalf("reassembled %d bytes differ from the %d sent", len(got), size)
			}
		})
	}
}

// reassemble checks the blob_chunk rules and returns the blob.
func reassemble(t *testing.T, msgs []protocol.ToolMessage, size int) []byte {
	t.Helper()
	wantChunks := (size+protocol.MaxBlobChunk-1)/protocol.MaxBlobChunk + 1
	if len(msgs) != wantChunks {
		t.Fatalf("%d chunks for %d bytes, want %d", len(msgs), size, wantChunks)
	}
	var blob []byte
	var id string
	for i, m := range msgs {
		ch := MustUnmarshal[protocol.BlobChunkMessage](t, m.Message)
		if i == 0 {
			id = ch.ID
		}
		switch {
		case m.Type != protocol.MessageBlobChunk || ch.ID != id || id == "":
			t.Fatalf("chunk %d: type %q id %q, want blob_chunk with id %q", i, m.Type, ch.ID, id)
		case ch.Sequence != i || ch.TotalLength != size || len(ch.Blob) > protocol.MaxBlobChunk:
			t.Fatalf("chunk %d: sequence %d total %d len %d", i, ch.Sequence, ch.TotalLength, len(ch.Blob))
		case ch.End != (i == len(msgs)-1):
			t.Fatalf("chunk %d: end = %v", i, ch.End)
		case m.Meta["mime_type"] != "application/octet-stream" || m.Meta["filename"] != "data.bin":
			t.Fatalf("chunk %d: meta %v", i, m.Meta)
		}
		blob = append(blob, ch.Blob...)
	}
	return blob
}

func TestCancel(t *testing.T) {
	t.Run("OKReachesContext", func(t *testing.T) {
		started := make(chan struct{})
		p := sdk.New()
		p.Tool("t", "wait", func(ctx context.Context, req *sdk.Request, w *sdk.Writer) error {
			close(started)
			<-ctx.Done()
			if err := w.Text("late"); !errors.Is(err, context.Canceled) {
				return errors.New("write after cancel was not refused")
			}
			return ctx.Err()
		})
		c := MustServe(t, p)
		c.MustInvoke(t, "s1", "t", "wait", nil)
		<-started
		c.MustSend(t, protocol.Request{SessionID: "s1", Event: protocol.EventCancel})
		e := MustError(t, c.MustSession(t, "s1"))
		if e.Message != context.Canceled.Error() {
			t.Fatalf("error = %+v, want the handler's context.Canceled", e)
		}
	})
	// A cancel written right behind its request finds the session, whether
	// the handler runs inline (a handoff that fires at once) or on its own
	// goroutine: the session is registered before the input is read again.
	t.Run("OKRightBehindTheRequest", func(t *testing.T) {
		// One P makes the goroutine that would register the session run
		// after the reader reads on, which is when a lost cancel shows.
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		for _, handoff := range []time.Duration{0, time.Nanosecond} {
			p := sdk.New(sdk.WithHandoffDelay(handoff))
			p.Tool("t", "wait", func(ctx context.Context, req *sdk.Request, w *sdk.Writer) error {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(time.Minute):
					return errors.New("the cancel was lost")
				}
			})
			c := MustServe(t, p)
			for i := range 200 {
				id := fmt.Sprintf("s%d", i)
				c.MustInvoke(t, id, "t", "wait", nil)
				c.MustSend(t, protocol.Request{SessionID: id, Event: protocol.EventCancel})
				if e := MustError(t, c.MustSession(t, id)); e.Message != context.Canceled.Error() {
					t.Fatalf("handoff %v, session %s: error = %+v", handoff, id, e)
				}
			}
		}
	})
	t.Run("OKLogged", func(t *testing.T) {
		started := make(chan struct{})
		p := sdk.New()
		p.Tool("t", "wait", func(ctx context.Context, req *sdk.Request, w *sdk.Writer) error {
			close(started)
			<-ctx.Done()
			return ctx.Err()
		})
		c := MustServe(t, p)
		c.MustInvoke(t, "s9", "t", "wait", nil)
		<-started
		c.MustSend(t, protocol.Request{SessionID: "s9", Event: protocol.EventCancel})
		for range 100 {
			ev := c.Next(t)
			var log protocol.LogData
			if ev.Event == protocol.EventLog && json.Unmarshal(ev.Data, &log) == nil && log.Message == "cancelled session s9" {
				return
			}
		}
		t.Fatal("no log event says the session was cancelled")
	})
	t.Run("OKOtherSessionsRun", func(t *testing.T) {
		release := make(chan struct{})
		p := sdk.New()
		p.Tool("t", "block", func(ctx context.Context, req *sdk.Request, w *sdk.Writer) error {
			<-release
			return w.Text("released")
		})
		p.Tool("t", "release", func(ctx context.Context, req *sdk.Request, w *sdk.Writer) error {
			close(release)
			return w.Text("done")
		})
		c := MustServe(t, p)
		c.MustInvoke(t, "blocked", "t", "block", nil)
		c.MustInvoke(t, "releaser", "t", "release", nil)
		if got := texts(t, c.MustSession(t, "releaser")); got != "done" {
			t.Fatalf("releaser text = %q", got)
		}
		if got := texts(t, c.MustSession(t, "blocked")); got != "released" {
			t.Fatalf("blocked text = %q", got)
		}
	})
}

func TestValidateCredentials(t *testing.T) {
	c := MustServe(t, newTestPlugin())
	validate := func(session string, creds map[string]any) []protocol.SessionData {
		c.MustRequest(t, session, protocol.RequestData{
			Type: protocol.TypeTool, Action: protocol.ActionValidateToolCredentials,
			Provider: "t", Credentials: creds,
		})
		return c.MustSession(t, session)
	}
	t.Run("OK", func(t *testing.T) {
		msgs := validate("ok", map[string]any{"api_key": "good"})
		if len(msgs) != 2 || msgs[0].Type != protocol.SessionStream {
			t.Fatalf("messages = %v", msgs)
		}
		if r := MustUnmarshal[protocol.ValidateResult](t, msgs[0].Data); !r.Result {
			t.Fatalf("result = %s", msgs[0].Data)
		}
	})
	t.Run("ErrRejected", func(t *testing.T) {
		e := MustError(t, validate("bad", map[string]any{"api_key": "bad"}))
		if e.ErrorType != sdk.ErrTypeCredentials || e.Message != "api_key is not good" {
			t.Fatalf("error = %+v", e)
		}
	})
}

func TestRuntimeParameters(t *testing.T) {
	t.Run("OKDefaultEmpty", func(t *testing.T) {
		c := MustServe(t, newTestPlugin())
		c.MustRequest(t, "rp", protocol.RequestData{
			Type: protocol.TypeTool, Action: protocol.ActionGetToolRuntimeParameters, Provider: "t", Tool: "words",
		})
		msgs := c.MustSession(t, "rp")
		if len(msgs) != 2 || string(msgs[0].Data) != `{"parameters":[]}` {
			t.Fatalf("messages = %v", msgs)
		}
	})
}

func TestWriterMessages(t *testing.T) {
	p := sdk.New()
	p.Tool("t", "all", func(ctx context.Context, req *sdk.Request, w *sdk.Writer) error {
		w.Link("https://example.com")
		w.Image("https://example.com/a.png")
		w.Variable("v", 1)
		w.StreamVariable("s", "piece")
		parent := w.Log("outer", sdk.LogStart, nil)
		w.LogChild(parent, "inner", sdk.LogSuccess, map[string]any{"k": "v"})
		w.Logf("plugin-level %d", 7)
		return w.LogUpdate(parent, sdk.LogSuccess, "", nil)
	})
	c := MustServe(t, p)
	c.MustInvoke(t, "all", "t", "all", nil)
	tm := MustToolMessages(t, c.MustSession(t, "all"))
	var types []string
	for _, m := range tm {
		types = append(types, m.Type)
	}
	if got := strings.Join(types, ","); got != "link,image,variable,variable,log,log,log" {
		t.Fatalf("types = %s", got)
	}
	outer := MustUnmarshal[protocol.LogMessage](t, tm[4].Message)
	inner := MustUnmarshal[protocol.LogMessage](t, tm[5].Message)
	final := MustUnmarshal[protocol.LogMessage](t, tm[6].Message)
	if inner.ParentID != outer.ID || outer.ID == "" || final.ID != outer.ID || final.Status != sdk.LogSuccess {
		t.Fatalf("log tree: outer %+v inner %+v final %+v", outer, inner, final)
	}
	if sv := MustUnmarshal[protocol.VariableMessage](t, tm[3].Message); !sv.Stream || sv.VariableValue != "piece" {
		t.Fatalf("stream variable = %+v", sv)
	}
}

func TestLogf(t *testing.T) {
	p := newTestPlugin()
	c := MustServe(t, p)
	c.Next(t) // heartbeat: serving
	p.Logf("hello %s", "daemon")
	ev := c.Next(t)
	ld := MustUnmarshal[protocol.LogData](t, ev.Data)
	if ev.Event != protocol.EventLog || ld.Message != "hello daemon" || ld.Level != sdk.LevelInfo || ld.Timestamp == 0 {
		t.Fatalf("event %s %+v", ev.Event, ld)
	}
}

func TestStreaming(t *testing.T) {
	t.Run("OKSlowHandlerChunksArriveBeforeEnd", func(t *testing.T) {
		seen := make(chan struct{})
		p := sdk.New()
		p.Tool("t", "slow", func(ctx context.Context, req *sdk.Request, w *sdk.Writer) error {
			if err := w.Text("first"); err != nil {
				return err
			}
			<-seen // returns only once the daemon side has the first chunk
			return w.Text("second")
		})
		c := MustServe(t, p)
		c.MustInvoke(t, "s", "t", "slow", nil)
		for ev := c.Next(t); ev.Event != protocol.EventSession; ev = c.Next(t) {
		}
		close(seen)
		if got := texts(t, c.MustSession(t, "s")); got != "second" {
			t.Fatalf("rest of the stream = %q", got)
		}
	})
}
