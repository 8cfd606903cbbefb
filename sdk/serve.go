package sdk

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plugboard/plugboard/daemon/protocol"
)

// Serve speaks the runtime protocol: requests and cancels are read from in,
// events written to out. It sends a heartbeat at once (the daemon's "ready")
// and then every heartbeat interval. It returns nil when in reaches EOF,
// after cancelling running handlers and waiting up to the shutdown grace for
// them; ctx's error when ctx ends first (a blocked read of in is then left
// behind); or the error that broke reading or writing.
func (p *Plugin) Serve(ctx context.Context, in io.Reader, out io.Writer) error {
	s := newServer(ctx, p, in, out)
	p.out.Store(s.out)
	defer p.out.CompareAndSwap(s.out, nil)
	if err := s.out.heartbeat(); err != nil {
		return fmt.Errorf("sdk: first heartbeat: %w", err)
	}
	go s.heartbeats()
	go newReader(s).loop()
	var err error
	select {
	case err = <-s.readDone:
	case <-ctx.Done():
		err = ctx.Err()
	}
	return s.shutdown(err)
}

// server is the state of one Serve call.
type server struct {
	p        *Plugin
	in       *bufio.Reader
	out      *output
	base     context.Context
	stop     context.CancelFunc
	readDone chan error

	mu       sync.Mutex
	sessions map[string]context.CancelFunc
	running  sync.WaitGroup

	calls  pendingCalls           // calls back waiting for the daemon's frames
	inline atomic.Pointer[reader] // the reader running a handler inline, if any
}

func newServer(ctx context.Context, p *Plugin, in io.Reader, out io.Writer) *server {
	base, stop := context.WithCancel(ctx)
	return &server{
		p: p, in: bufio.NewReaderSize(in, 64<<10), out: newOutput(out),
		base: base, stop: stop, readDone: make(chan error, 1),
		sessions: map[string]context.CancelFunc{},
	}
}

// shutdown cancels every handler, waits for them within the grace period,
// and closes the output.
func (s *server) shutdown(cause error) error {
	s.stop()
	done := make(chan struct{})
	go func() { s.running.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(s.p.grace):
	}
	werr := s.out.close()
	if cause != nil {
		return cause
	}
	return werr
}

func (s *server) heartbeats() {
	if s.p.heartbeat <= 0 {
		return
	}
	t := time.NewTicker(s.p.heartbeat)
	defer t.Stop()
	for {
		select {
		case <-s.base.Done():
			return
		case <-t.C:
			s.out.heartbeat()
		}
	}
}

// readLine returns the next line without its newline; the slice is valid
// until the next read.
func (s *server) readLine() ([]byte, error) {
	line, err := s.in.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		long := append([]byte(nil), line...)
		rest, err := s.in.ReadBytes('\n')
		return append(long, rest...), err
	}
	if err == io.EOF && len(line) > 0 {
		return line, nil // a last line without a newline
	}
	return line, err
}

// Reader states: reading (or between requests), running a handler inline,
// and handed off (another reader took over while the handler ran).
const (
	stateReading int32 = iota
	stateInline
	stateHandedOff
)

// reader owns the input while it reads. It runs each request's handler
// itself — no goroutine switch for quick tools — but when a handler is still
// running after the handoff delay, a new reader takes over the input so
// requests and cancels keep flowing, and this one ends with its handler.
type reader struct {
	s     *server
	state atomic.Int32
	timer *time.Timer
	hold  atomic.Bool // the inline handler's output waits for its end or handoff
}

func newReader(s *server) *reader {
	r := &reader{s: s}
	if s.p.handoff > 0 {
		r.timer = time.AfterFunc(time.Hour, r.handOff)
		r.timer.Stop()
	}
	return r
}

func (r *reader) loop() {
	for {
		line, err := r.s.readLine()
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			r.s.readDone <- err
			return
		}
		if !r.dispatch(line) {
			return
		}
	}
}

// dispatch handles one input line; false means this reader lost the input.
func (r *reader) dispatch(line []byte) bool {
	if r.s.calls.deliver(line) {
		return true
	}
	req, ok := r.s.parse(line)
	if !ok {
		return true
	}
	if req.Event == protocol.EventCancel {
		r.s.cancel(req.SessionID)
		return true
	}
	// The session is registered before anything else can read the input,
	// so a cancel right behind the request always finds it.
	run, ok := r.s.begin(req)
	switch {
	case !ok:
		return true
	case r.timer == nil:
		r.s.startConcurrent(run)
		return true
	}
	return r.runInline(run)
}

func (r *reader) runInline(run func(hold *atomic.Bool)) bool {
	r.state.Store(stateInline)
	r.hold.Store(true)
	r.timer.Reset(r.s.p.handoff)
	r.s.inline.Store(r)
	run(&r.hold)
	r.s.inline.CompareAndSwap(r, nil)
	r.timer.Stop()
	return r.state.CompareAndSwap(stateInline, stateReading)
}

// yield hands the input off at once from a reader running a handler
// inline: a handler that waits for the daemon's answer to a call back
// needs the input read meanwhile.
func (s *server) yield() {
	if r := s.inline.Load(); r != nil {
		go r.handOff()
	}
}

// handOff runs on the timer's goroutine, which becomes the next reader.
func (r *reader) handOff() {
	if r.state.CompareAndSwap(stateInline, stateHandedOff) {
		r.hold.Store(false) // a slow handler streams as it goes
		r.s.out.flush()
		newReader(r.s).loop()
	}
}

// parse decodes a line; lines that are empty, have no event or are not JSON
// are skipped (the latter logged), as the daemon does. A request whose data
// does not decode (a prompt message of the wrong shape, say) is still
// returned, with the reason, so that its session is answered with an error
// rather than left waiting.
func (s *server) parse(line []byte) (*inbound, bool) {
	if len(line) == 0 || (len(line) == 1 && line[0] == '\n') {
		return nil, false
	}
	var req protocol.Request
	err := json.Unmarshal(line, &req)
	if err != nil {
		in, ok := s.parseBroken(line, err)
		return in, ok
	}
	if req.Event != protocol.EventRequest && req.Event != protocol.EventCancel {
		return nil, false
	}
	return &inbound{Request: &req}, true
}

// parseBroken reads the session, type and action of a request line that
// does not decode into a request.
func (s *server) parseBroken(line []byte, cause error) (*inbound, bool) {
	var head struct {
		SessionID string `json:"session_id"`
		Event     string `json:"event"`
		Data      struct {
			Type   string `json:"type"`
			Action string `json:"action"`
		} `json:"data"`
	}
	if json.Unmarshal(line, &head) != nil || head.Event != protocol.EventRequest || head.SessionID == "" {
		s.out.log(LevelWarn, fmt.Sprintf("sdk: skipped an input line that is not a request: %v", cause))
		return nil, false
	}
	req := &protocol.Request{SessionID: head.SessionID, Event: head.Event,
		Data: &protocol.RequestData{Type: head.Data.Type, Action: head.Data.Action}}
	return &inbound{Request: req, decodeErr: cause}, true
}

// inbound is one request line: the protocol's request, or, when its data
// did not decode, its session, type and action and the reason.
type inbound struct {
	*protocol.Request
	decodeErr error
}

// cancel cancels a running session's context and says so in the plugin's
// log, so the daemon's log of the plugin shows that the cancel arrived.
func (s *server) cancel(session string) {
	s.mu.Lock()
	cancel := s.sessions[session]
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		s.out.log(LevelInfo, "cancelled session "+session)
	}
}

func (s *server) startConcurrent(run func(hold *atomic.Bool)) {
	s.running.Add(1)
	go func() {
		defer s.running.Done()
		run(nil)
	}()
}

// begin registers the request's session, so that a cancel read after it
// finds it, and returns what runs the request to its end frame (its output
// held while hold is set); false when the session is already running.
func (s *server) begin(req *inbound) (func(hold *atomic.Bool), bool) {
	ctx, cancel := context.WithCancel(s.base)
	if !s.open(req.SessionID, cancel) {
		cancel()
		s.out.log(LevelWarn, fmt.Sprintf("sdk: ignored a second request for running session %q", req.SessionID))
		return nil, false
	}
	s.running.Add(1)
	return func(hold *atomic.Bool) {
		defer s.running.Done()
		defer cancel()
		w := newWriter(ctx, s.out, req.SessionID, hold)
		w.srvRef = s
		err := s.safeRoute(ctx, req, w)
		s.close(req.SessionID) // before the end frame, so the id may be reused at once
		w.finish(err, errType(req))
	}, true
}

func (s *server) open(session string, cancel context.CancelFunc) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.sessions[session]; dup {
		return false
	}
	s.sessions[session] = cancel
	return true
}

func (s *server) close(session string) {
	s.mu.Lock()
	delete(s.sessions, session)
	s.mu.Unlock()
}

// safeRoute routes the request and turns a panic into an error.
func (s *server) safeRoute(ctx context.Context, req *inbound, w *Writer) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &Error{Type: ErrTypePanic, Message: fmt.Sprintf("panic: %v", v),
				Args: map[string]any{"traceback": string(debug.Stack())}}
		}
	}()
	return s.route(ctx, req, w)
}
