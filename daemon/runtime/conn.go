package runtime

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/protocol"
)

// conn multiplexes sessions over one plugin connection: newline-delimited
// JSON events read from r, requests and cancels written to w. It knows
// nothing about processes, so a remote (TCP) plugin can use it as well.
type conn struct {
	pluginID string
	key      string // the runtime's key, for calls back
	maxLine  int
	ring     *logRing
	log      *slog.Logger

	r *bufio.Reader
	w lineWriter

	ready     chan struct{} // closed at the first heartbeat
	readyOnce sync.Once
	lastSeen  atomic.Int64 // unix nanoseconds of the last line read
	blocked   atomic.Bool  // the reader waits on a slow consumer
	dropped   droppedLine  // the ends of the last over-long line
	odd       oddities     // dropped output, logged sparingly

	calls   CallBacks    // answers calls back (nil: each is refused)
	tracker *callTracker // counts the calls back in flight

	mu       sync.RWMutex
	sessions map[string]*session
	closeErr error // set once the conn is closed
}

func newConn(pluginID string, r io.Reader, w io.Writer, maxLine int, ring *logRing, log *slog.Logger) *conn {
	c := &conn{
		pluginID: pluginID,
		maxLine:  maxLine,
		ring:     ring,
		log:      log,
		r:        bufio.NewReaderSize(r, 64<<10),
		w:        lineWriter{bw: bufio.NewWriterSize(w, 64<<10)},
		ready:    make(chan struct{}),
		sessions: map[string]*session{},
	}
	c.lastSeen.Store(time.Now().UnixNano())
	return c
}

// alive reports whether the plugin has shown a sign of life within d: a
// line read, or a reader held up by a slow consumer rather than the plugin.
func (c *conn) alive(d time.Duration) bool {
	return c.blocked.Load() || time.Since(time.Unix(0, c.lastSeen.Load())) < d
}

// readLoop reads events until the reader fails, and returns its error (io.EOF
// when the plugin closed its output).
func (c *conn) readLoop() error {
	for {
		line, err := c.readLine()
		if len(line) > 0 {
			c.lastSeen.Store(time.Now().UnixNano())
			c.handle(line)
		}
		if err == errLineTooLong {
			c.lastSeen.Store(time.Now().UnixNano())
			c.warn(fmt.Sprintf("line over %s discarded", mib(int64(c.maxLine))))
			c.failDropped()
			continue
		}
		if err != nil {
			return err
		}
	}
}

var errLineTooLong = errors.New("line too long")

// readLine returns the next line without its newline. The slice is only
// valid until the next call.
func (c *conn) readLine() ([]byte, error) {
	line, err := c.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		line, err = c.readLongLine(line)
	}
	if len(line) > c.maxLine+1 || (len(line) > c.maxLine && line[len(line)-1] != '\n') {
		c.dropped.start(line)
		c.dropped.keepTail(line)
		return nil, errLineTooLong
	}
	return bytes.TrimRight(line, "\r\n"), err
}

// readLongLine gathers a line longer than the read buffer, up to maxLine; a
// longer one is read to its end and discarded, keeping only its ends (in
// c.dropped) to tell which session it belonged to.
func (c *conn) readLongLine(first []byte) ([]byte, error) {
	buf := append([]byte(nil), first...)
	for {
		part, err := c.r.ReadSlice('\n')
		if len(buf)+len(part) > c.maxLine+1 {
			c.dropped.start(buf)
			c.dropped.keepTail(part)
			for err == bufio.ErrBufferFull {
				part, err = c.r.ReadSlice('\n')
				c.dropped.keepTail(part)
			}
			if err != nil {
				return nil, err
			}
			return nil, errLineTooLong
		}
		buf = append(buf, part...)
		if err != bufio.ErrBufferFull {
			return buf, err
		}
	}
}

// wireEvent is the part of a plugin → daemon line dispatch needs.
type wireEvent struct {
	Event     string          `json:"event"`
	SessionID string          `json:"session_id"`
	Data      json.RawMessage `json:"data"`
}

var (
	eventKeys   = []string{"event", "session_id", "data"}
	sessionKeys = []string{"type", "data"}
)

// handle dispatches one line. Lines without an event are ignored (Dify's SDK
// prints its configuration first); lines that are not JSON are logged.
func (c *conn) handle(line []byte) {
	if len(bytes.TrimSpace(line)) == 0 {
		return
	}
	if !json.Valid(line) {
		c.warn("plugin wrote a line that is not JSON: " + truncate(string(line), 200))
		return
	}
	var v [3][]byte
	if !protocol.Pick(line, eventKeys, v[:]) {
		c.handleSlow(line)
		return
	}
	event, ok1 := protocol.PlainString(v[0])
	id, ok2 := protocol.PlainString(v[1])
	if !ok1 || !ok2 {
		c.handleSlow(line)
		return
	}
	c.dispatch(string(event), id, v[2])
}

// handleSlow decodes a line the fast path could not (escapes, odd shapes).
func (c *conn) handleSlow(line []byte) {
	var ev wireEvent
	if json.Unmarshal(line, &ev) == nil {
		c.dispatch(ev.Event, []byte(ev.SessionID), ev.Data)
	}
}

// dispatch acts on one event; data is only valid during the call.
func (c *conn) dispatch(event string, id []byte, data []byte) {
	switch event {
	case protocol.EventHeartbeat:
		c.readyOnce.Do(func() { close(c.ready) })
	case protocol.EventLog:
		c.pluginLog(data)
	case protocol.EventError:
		if refusesCancel(data) {
			c.log.Debug("plugin does not know cancel events (Dify's SDK)", "plugin", c.pluginID)
			return
		}
		c.ring.add(sourceLog, "error", describeError(data).Error())
	case protocol.EventSession:
		c.sessionEvent(id, data)
	case "":
		// No event: Dify's SDK prints its configuration first.
	default:
		c.note(oddUnknownEvent, "event "+truncate(event, 64))
	}
}

func (c *conn) pluginLog(data []byte) {
	var l protocol.LogData
	if err := json.Unmarshal(data, &l); err != nil {
		c.ring.add(sourceLog, "info", string(data))
		return
	}
	t := time.Now()
	if l.Timestamp > 0 {
		t = time.Unix(0, int64(l.Timestamp*1e9))
	}
	level := strings.ToLower(l.Level)
	if level == "" {
		level = "info"
	}
	c.ring.addAt(t, sourceLog, level, l.Message)
}

// sessionEvent routes a session message; messages for unknown sessions (late
// chunks after a cancel) and of unknown types are dropped and noted.
func (c *conn) sessionEvent(id []byte, data []byte) {
	s := c.lookup(id)
	if s == nil {
		c.note(oddUnknownSession, "session "+truncate(string(id), 64))
		return
	}
	var v [2][]byte
	typ, ok := []byte(nil), protocol.Pick(data, sessionKeys, v[:])
	if ok {
		typ, ok = protocol.PlainString(v[0])
	}
	if !ok {
		var sd protocol.SessionData
		if err := json.Unmarshal(data, &sd); err != nil {
			c.warn("plugin sent a session event that is not an object: " + truncate(string(data), 200))
			return
		}
		typ, v[1] = []byte(sd.Type), sd.Data
	}
	switch string(typ) {
	case protocol.SessionStream:
		if len(v[1]) > 0 && string(v[1]) != "null" {
			c.deliver(s, bytes.Clone(v[1]))
		}
	case protocol.SessionEnd:
		s.finish(errEnd, false)
	case protocol.SessionError:
		s.finish(describeError(v[1]), false)
	case protocol.SessionInvoke:
		c.callBack(s, v[1])
	default:
		c.note(oddUnknownSessionType, "type "+truncate(string(typ), 64))
	}
}

// deliver hands a chunk to its session, waiting while the session's queue
// is full unless the session ends meanwhile.
func (c *conn) deliver(s *session, msg json.RawMessage) {
	if s.push(msg) {
		return
	}
	c.blocked.Store(true)
	for !s.push(msg) {
		select {
		case <-s.room:
		case <-s.done:
		}
	}
	c.blocked.Store(false)
	c.lastSeen.Store(time.Now().UnixNano())
}

// describeError decodes a plugin-reported error leniently: an object with
// error_type/message/args (message may be any JSON), or any other value.
func describeError(data json.RawMessage) *PluginError {
	var raw struct {
		ErrorType string          `json:"error_type"`
		Message   json.RawMessage `json:"message"`
		Args      any             `json:"args"`
	}
	e := &PluginError{Type: "PluginError"}
	if err := json.Unmarshal(data, &raw); err != nil {
		e.Message = jsonText(data)
		return e
	}
	if raw.ErrorType != "" {
		e.Type = raw.ErrorType
	}
	e.Message, e.Args = jsonText(raw.Message), raw.Args
	if e.Message == "" && raw.ErrorType == "" {
		e.Message = jsonText(data)
	}
	return e
}

// jsonText renders a JSON string as its text and anything else as JSON.
func jsonText(data json.RawMessage) string {
	var s string
	if json.Unmarshal(data, &s) == nil {
		return s
	}
	if len(data) == 0 || string(data) == "null" {
		return ""
	}
	return string(data)
}

// warn records a problem with the plugin's output in its log ring (the
// daemon's own log gets it at debug level only: a plugin that prints to
// stdout would flood it).
func (c *conn) warn(msg string) {
	c.ring.add(sourceDaemon, "warn", msg)
	c.log.Debug(msg, "plugin", c.pluginID)
}

func (c *conn) lookup(id []byte) *session {
	c.mu.RLock()
	s := c.sessions[string(id)]
	c.mu.RUnlock()
	return s
}

func (c *conn) remove(id string) {
	c.mu.Lock()
	delete(c.sessions, id)
	c.mu.Unlock()
}

// open registers s and sends its request.
func (c *conn) open(s *session, req *protocol.RequestData) error {
	line, err := requestLine(s.id, req)
	if err != nil {
		return plugboard.Errorf(plugboard.EINVALID, "plugin %s: cannot encode the request: %v", c.pluginID, err)
	}
	c.mu.Lock()
	if c.closeErr != nil {
		c.mu.Unlock()
		return &notSentError{c.closeErr}
	}
	select {
	case <-s.done: // ended (say, by its context) before it was sent
		c.mu.Unlock()
		return s.err
	default:
	}
	c.sessions[s.id] = s
	c.mu.Unlock()
	if err := c.w.write(line); err != nil {
		c.remove(s.id)
		return plugboard.Errorf(plugboard.EUNAVAILABLE, "plugin %s: cannot send the request: %v", c.pluginID, err)
	}
	return nil
}

// notSentError is the error of a request that never reached the plugin
// because its instance had already ended.
type notSentError struct{ err error }

func (e *notSentError) Error() string { return e.err.Error() }
func (e *notSentError) Unwrap() error { return e.err }

// cancel tells the plugin to stop working on session id; errors are ignored
// (a plugin that is gone has stopped anyway). Dify's SDK does not know the
// event and answers it with an instance error (refusesCancel), which is not
// the plugin's fault and is kept out of its log.
func (c *conn) cancel(id string) {
	_ = c.w.write(cancelLine(id))
}

// cancelLine encodes the cancel line of session id.
func cancelLine(id string) []byte {
	line, _ := json.Marshal(protocol.Cancel{SessionID: id, Event: protocol.EventCancel}) // strings only: cannot fail
	return append(line, '\n')
}

// close ends every session with err and refuses new ones.
func (c *conn) close(err error) {
	c.mu.Lock()
	if c.closeErr == nil {
		c.closeErr = err
	}
	all := c.sessions
	c.sessions = map[string]*session{}
	c.mu.Unlock()
	for _, s := range all {
		s.finish(err, false)
	}
}

// inFlight counts the open sessions.
func (c *conn) inFlight() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.sessions)
}

// emptyContext is the context of a request that brings none: Dify's SDK
// requires one.
var emptyContext = json.RawMessage(`{}`)

// requestLine encodes the request line of session id, with the data Dify's
// SDK requires (protocol.RequestData.Wire). encoding/json writes it: a hand
// encoding measured no faster (the line is a few hundred nanoseconds of an
// invocation's hundreds of microseconds).
func requestLine(id string, req *protocol.RequestData) ([]byte, error) {
	data := req.Wire()
	sc := emptyContext
	if len(req.SessionContext) > 0 {
		sc = req.SessionContext
	}
	line, err := json.Marshal(protocol.Request{SessionID: id, Context: sc, Event: protocol.EventRequest, Data: &data})
	if err != nil {
		return nil, err
	}
	return append(line, '\n'), nil
}

// cancelRefusal is how Dify's SDK's stdio reader answers a cancel line: it
// knows only the events request and backwards_response.
var cancelRefusal = []byte(`Invalid value for PluginInStream.Event: cancel`)

// refusesCancel reports whether an instance error event is the SDK's answer
// to a cancel line.
func refusesCancel(data []byte) bool {
	return bytes.Contains(data, cancelRefusal) && len(data) < 256
}
