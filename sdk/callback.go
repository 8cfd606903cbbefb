package sdk

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/plugboard/plugboard/daemon/protocol"
)

// DefaultCallBackTimeout is how long a call back waits for the daemon's
// next frame before it gives up (Dify's SDK's MAX_INVOCATION_TIMEOUT).
const DefaultCallBackTimeout = 250 * time.Second

// WithCallBackTimeout sets how long a call back waits for each frame.
func WithCallBackTimeout(d time.Duration) Option {
	return func(p *Plugin) { p.callBackTimeout = d }
}

// CallBackError is the daemon's or the platform's error answering a call
// back: permission denied, a limit, the model's failure …
type CallBackError struct {
	Type    string // the call back's type (llm, storage …)
	Message string
}

func (e *CallBackError) Error() string { return "call back " + e.Type + ": " + e.Message }

// Session is a handler's way back into its host (Dify's backwards
// invocation): models, other tools, storage, file uploads. Get it from the
// handler's Writer; it is safe for concurrent use, so several calls back may
// be in flight at once.
type Session struct {
	srv *server
	id  string
	ctx context.Context
}

// Session returns the writer's session, for calling back into the host.
func (w *Writer) Session() *Session {
	return &Session{srv: w.srvRef, id: w.session, ctx: w.ctx}
}

// CallStream is the answer to one call back: the frames' data in order.
type CallStream struct {
	typ     string
	frames  *callQueue
	timeout time.Duration
	ctx     context.Context
	done    func()
	ended   bool
}

// Next returns the next response's data; io.EOF after the last, a
// *CallBackError for the daemon's error frame, the context's error when the
// session ends, or a timeout error when the daemon is silent too long.
func (cs *CallStream) Next() (json.RawMessage, error) {
	if cs.ended {
		return nil, io.EOF
	}
	t := time.NewTimer(cs.timeout)
	defer t.Stop()
	for {
		if f, ok := cs.frames.pop(); ok {
			return cs.frame(f)
		}
		select {
		case <-cs.frames.wake:
		case <-cs.ctx.Done():
			cs.close()
			return nil, cs.ctx.Err()
		case <-t.C:
			cs.close()
			return nil, fmt.Errorf("call back %s: no answer from the daemon within %s", cs.typ, cs.timeout)
		}
	}
}

// frame reads one of the daemon's frames.
func (cs *CallStream) frame(f protocol.BackwardsFrame) (json.RawMessage, error) {
	switch f.Event {
	case protocol.BackwardsResponse:
		raw, _ := f.Data.(json.RawMessage)
		if len(raw) == 0 || string(raw) == "null" {
			cs.close()
			return nil, io.EOF
		}
		return raw, nil
	case protocol.BackwardsError:
		cs.close()
		return nil, &CallBackError{Type: cs.typ, Message: f.Message}
	}
	cs.close()
	return nil, io.EOF
}

// Close stops waiting for the call back's frames.
func (cs *CallStream) Close() { cs.close() }

func (cs *CallStream) close() {
	if !cs.ended {
		cs.ended = true
		cs.done()
	}
}

// Invoke makes a call back of type typ with request (Dify's request object
// for the type) and returns its answer's stream.
func (s *Session) Invoke(ctx context.Context, typ string, request any) (*CallStream, error) {
	if s.srv == nil {
		return nil, errors.New("sdk: this writer has no session to call back on")
	}
	if ctx == nil {
		ctx = s.ctx
	}
	id := newRequestID()
	frames := &callQueue{wake: make(chan struct{}, 1)}
	s.srv.calls.add(id, frames)
	line, err := invokeLine(s.id, typ, id, request)
	if err == nil {
		err = s.srv.out.write(line)
	}
	s.srv.yield()
	if err != nil {
		s.srv.calls.remove(id)
		return nil, err
	}
	timeout := s.srv.p.callBackTimeout
	if timeout <= 0 {
		timeout = DefaultCallBackTimeout
	}
	merged, cancel := mergeDone(ctx, s.ctx)
	// A stream its handler neither read to the end nor closed is let go
	// when its context or its session ends, not kept (and fed) forever.
	context.AfterFunc(merged, func() { s.srv.calls.remove(id) })
	return &CallStream{typ: typ, frames: frames, timeout: timeout, ctx: merged,
		done: func() { cancel(); s.srv.calls.remove(id) }}, nil
}

// call makes a call back answered by one object, decoded into out.
func (s *Session) call(ctx context.Context, typ string, request, out any) error {
	cs, err := s.Invoke(ctx, typ, request)
	if err != nil {
		return err
	}
	defer cs.Close()
	raw, err := cs.Next()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("call back %s: the daemon ended without an answer", typ)
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("call back %s: decoding the answer %.200s: %w", typ, raw, err)
	}
	return nil
}

func invokeLine(session, typ, id string, request any) ([]byte, error) {
	data, err := json.Marshal(map[string]any{"type": typ, "backwards_request_id": id, "request": request})
	if err != nil {
		return nil, fmt.Errorf("call back %s: encoding the request: %w", typ, err)
	}
	return appendSession(nil, session, protocol.SessionInvoke, data), nil
}

// newRequestID returns a UUID4 in hex, as Dify's SDK makes them.
func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return hex.EncodeToString(b)
}

// mergeDone returns a context that ends when either a or b does.
func mergeDone(a, b context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(a)
	stop := context.AfterFunc(b, cancel)
	return ctx, func() { stop(); cancel() }
}

// pendingCalls routes the daemon's backwards_response frames to the calls
// back waiting for them, by backwards_request_id.
type pendingCalls struct {
	mu sync.Mutex
	m  map[string]*callQueue
}

// callQueue holds one call back's frames until it reads them: unbounded,
// so the input reader never waits on a call back's reader (which may be
// waiting for another call back's answer).
type callQueue struct {
	mu     sync.Mutex
	frames []protocol.BackwardsFrame
	wake   chan struct{} // capacity 1
}

func (q *callQueue) push(f protocol.BackwardsFrame) {
	q.mu.Lock()
	q.frames = append(q.frames, f)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *callQueue) pop() (protocol.BackwardsFrame, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.frames) == 0 {
		return protocol.BackwardsFrame{}, false
	}
	f := q.frames[0]
	q.frames = q.frames[1:]
	return f, true
}

func (p *pendingCalls) add(id string, q *callQueue) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]*callQueue{}
	}
	p.m[id] = q
}

func (p *pendingCalls) remove(id string) {
	p.mu.Lock()
	delete(p.m, id)
	p.mu.Unlock()
}

// backwardsEvent marks the daemon's answer lines to calls back.
var backwardsEvent = []byte(`"event":"backwards_response"`)

// deliver routes one backwards_response line; it reports false for a line
// that is not one. A frame for no waiting call (one given up) is dropped.
func (p *pendingCalls) deliver(line []byte) bool {
	if !bytes.Contains(line, backwardsEvent) {
		return false
	}
	var msg struct {
		Event string `json:"event"`
		Data  struct {
			RequestID string          `json:"backwards_request_id"`
			Event     string          `json:"event"`
			Message   string          `json:"message"`
			Data      json.RawMessage `json:"data"`
		} `json:"data"`
	}
	if json.Unmarshal(line, &msg) != nil || msg.Event != protocol.EventBackwardsResponse {
		return false
	}
	p.mu.Lock()
	q := p.m[msg.Data.RequestID]
	p.mu.Unlock()
	if q != nil {
		q.push(protocol.BackwardsFrame{RequestID: msg.Data.RequestID, Event: msg.Data.Event, Message: msg.Data.Message, Data: msg.Data.Data})
	}
	return true
}
