package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/protocol"
)

// Origin says who an invocation is for, which the calls back it makes
// carry: the tenant, and how deep in calls back it runs (0 for a plugin a
// user or an agent invoked directly; a tool invoked by a call back of depth
// n runs at depth n).
type Origin struct {
	Tenant string
	Depth  int
}

type originKey struct{}

// WithOrigin returns ctx carrying o for the invocations opened with it.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginOf returns the origin ctx carries (the zero Origin when none).
func OriginOf(ctx context.Context) Origin {
	o, _ := ctx.Value(originKey{}).(Origin)
	return o
}

// CallBack is one of a plugin's calls back into its host (Dify's backwards
// invocation): a session message of type invoke, with what the daemon
// knows of the session that made it.
type CallBack struct {
	Key      string // the runtime's key (the package's unique identifier)
	PluginID string // author/name
	Session  string // the session's id
	Tenant   string
	UserID   string
	// InvokeFrom is the session's request type (tool, model …): Dify
	// refuses calls back from model sessions.
	InvokeFrom string
	Depth      int // the session's depth (Origin.Depth)

	Type      string         // the call back's type (llm, tool, storage …)
	RequestID string         // backwards_request_id
	Request   map[string]any // the request object, as the plugin sent it
}

// Reply answers one call back. The runtime writes the final end frame
// itself once the handler returns, so a handler only sends data or fails.
type Reply interface {
	// Send writes a response frame: message is protocol.BackwardsStream
	// for a chunk of a stream, protocol.BackwardsStruct for a single object.
	Send(message string, data any) error
	// Fail writes an error frame with the message.
	Fail(message string) error
}

// CallBacks answers calls back. CallBack runs in a goroutine of its own,
// never the plugin's output reader; ctx ends when the session does.
type CallBacks interface {
	CallBack(ctx context.Context, cb *CallBack, r Reply)
}

// callTracker counts the calls back in flight, for Manager.Close to wait
// on; once closed it refuses new ones.
type callTracker struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// add counts a call back in; false once the tracker is closed.
func (t *callTracker) add() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.wg.Add(1)
	return true
}

// closeAndWait refuses new calls back and waits for those in flight.
func (t *callTracker) closeAndWait() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.wg.Wait()
}

// parseInvoke checks a session's invoke data as Dify's daemon does: an
// object holding a string type, a string backwards_request_id and an
// object request. Its errors are worded as Dify's.
func parseInvoke(data []byte) (*protocol.InvokeData, error) {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("unmarshal invoke request failed: %s", err.Error())
	}
	if m == nil {
		return nil, fmt.Errorf("invoke request is empty")
	}
	typ, ok := m["type"].(string)
	if !ok {
		return nil, fmt.Errorf("invoke request missing type: %s", data)
	}
	id, ok := m["backwards_request_id"].(string)
	if !ok {
		return nil, fmt.Errorf("invoke request missing request_id: %s", data)
	}
	req, ok := m["request"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("invoke request missing request: %s", data)
	}
	return &protocol.InvokeData{Type: typ, RequestID: id, Request: req}, nil
}

// errNoCallBacks answers every call back on a runtime given no CallBacks.
const errNoCallBacks = "this daemon answers no calls back into the platform"

// callBack answers one invoke session message. A malformed one fails the
// session (as Dify's daemon does, with error type invoke_dify_error); a
// well-formed one is handed to the CallBacks in a goroutine, so a slow call
// back never holds up the plugin's output, and several may be in flight on
// one session.
func (c *conn) callBack(s *session, data []byte) {
	inv, err := parseInvoke(data)
	if err != nil {
		c.warn("plugin sent a malformed call back: " + truncate(err.Error(), 300))
		s.finish(&PluginError{Type: "invoke_dify_error", Message: "invoke dify failed: " + err.Error()}, true)
		return
	}
	cb := &CallBack{
		Key: c.key, PluginID: c.pluginID, Session: s.id,
		Tenant: s.origin.Tenant, UserID: s.userID, InvokeFrom: s.from, Depth: s.origin.Depth,
		Type: inv.Type, RequestID: inv.RequestID, Request: inv.Request,
	}
	if c.tracker != nil && !c.tracker.add() {
		return // the runtime is closing: the session is ending anyway
	}
	go func() {
		if c.tracker != nil {
			defer c.tracker.wg.Done()
		}
		c.runCallBack(s, cb)
	}()
}

// runCallBack runs the handler with a context that ends with the session,
// writes the end frame and logs the call back's type, time and outcome
// (never its payload).
func (c *conn) runCallBack(s *session, cb *CallBack) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	r := &reply{c: c, s: s, id: cb.RequestID, cb: cb, start: time.Now()}
	if c.calls == nil {
		r.Fail(errNoCallBacks)
	} else {
		c.calls.CallBack(ctx, cb, r)
	}
	r.report()
	r.write(protocol.BackwardsEnd, "", nil)
}

// callBackEvent describes a finished call back for the session's stream.
func callBackEvent(cb *CallBack, r *reply, d time.Duration) apispec.CallBackEvent {
	ev := apispec.CallBackEvent{Type: cb.Type, DurationMs: d.Milliseconds(), Outcome: "ok", Frames: int(r.frames.Load())}
	if msg := r.failed.Load(); msg != nil {
		ev.Outcome, ev.Error = "error", truncate(*msg, 500)
	}
	return ev
}

func (c *conn) logCallBack(cb *CallBack, r *reply, d time.Duration) {
	d = d.Round(time.Millisecond)
	if msg := r.failed.Load(); msg != nil {
		c.ring.add(sourceDaemon, "warn", fmt.Sprintf("call back %s failed after %s: %s", cb.Type, d, truncate(*msg, 300)))
		return
	}
	c.ring.add(sourceDaemon, "info", fmt.Sprintf("call back %s answered in %s (%d frames)", cb.Type, d, r.frames.Load()))
}

// reply writes one call back's backwards_response frames on the session's
// conn; frames for a session that has ended are dropped.
type reply struct {
	c        *conn
	s        *session
	id       string
	cb       *CallBack
	start    time.Time
	frames   atomic.Int32
	failed   atomic.Pointer[string]
	reported atomic.Bool
}

// report logs the call back's type, time and outcome and queues its
// report among the session's output, once: before the frame that may end
// the plugin's session — its error (a plugin on Dify's SDK raises on it at
// once) or its end —, so that the report comes before the session's end.
func (r *reply) report() {
	if !r.reported.CompareAndSwap(false, true) {
		return
	}
	d := time.Since(r.start)
	r.c.logCallBack(r.cb, r, d)
	r.s.note(callBackEvent(r.cb, r, d))
}

func (r *reply) Send(message string, data any) error {
	r.frames.Add(1)
	return r.write(protocol.BackwardsResponse, message, data)
}

func (r *reply) Fail(message string) error {
	r.failed.CompareAndSwap(nil, &message)
	r.report()
	return r.write(protocol.BackwardsError, message, nil)
}

func (r *reply) write(event, message string, data any) error {
	select {
	case <-r.s.done:
		return r.s.err
	default:
	}
	line, err := json.Marshal(protocol.BackwardsLine{
		SessionID: r.s.id, Event: protocol.EventBackwardsResponse,
		Data: protocol.BackwardsFrame{RequestID: r.id, Event: event, Message: message, Data: data},
	})
	if err != nil {
		return fmt.Errorf("encoding a call back's answer: %w", err)
	}
	return r.c.w.write(append(line, '\n'))
}

// withCallBacks makes c answer calls back through cfg's CallBacks.
func (c *conn) withCallBacks(key string, cfg Config) {
	c.key, c.calls, c.tracker = key, cfg.CallBacks, cfg.tracker
}
