package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
)

// sessionBuffer is how many chunks a session holds before the reader waits
// for its consumer. The queue grows on demand, so a short session costs
// little.
const sessionBuffer = 256

var (
	errEnd          = io.EOF
	errStreamClosed = plugboard.Errorf(plugboard.EUNAVAILABLE, "the stream was closed")
)

// session is one invocation: the chunks the plugin streams for it, and how it
// ended.
type session struct {
	id   string
	c    *conn
	done chan struct{}
	once sync.Once
	err  error // how it ended; read only after done is closed

	qmu   sync.Mutex
	queue []json.RawMessage // chunks not yet received, from head on
	head  int
	notes int           // how many of them are notes (calls back's reports)
	wake  chan struct{} // a chunk arrived (capacity 1)
	room  chan struct{} // a full queue has room again (capacity 1)

	release func() // frees the concurrency slot

	// Who the session is for, which its calls back carry.
	origin Origin
	userID string
	from   string // the request's type (tool, model …)

	armMu     sync.Mutex
	stopTimer func() bool // the invocation timeout
	stopCtx   func() bool // the caller's context watch
}

var (
	idPrefix  = randomPrefix()
	idCounter atomic.Uint64
)

func randomPrefix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b) + "-"
}

// newSessionID returns a process-unique id: a random prefix and a counter,
// cheaper than a UUID and as unique for our purpose.
func newSessionID() string {
	return idPrefix + strconv.FormatUint(idCounter.Add(1), 10)
}

func newSession(c *conn, release func()) *session {
	return &session{
		id:      newSessionID(),
		c:       c,
		done:    make(chan struct{}),
		wake:    make(chan struct{}, 1),
		room:    make(chan struct{}, 1),
		release: release,
	}
}

// finish ends the session with err (errEnd for a normal end) and, when
// cancel is set, tells the plugin to stop. Only the first call counts.
func (s *session) finish(err error, cancel bool) {
	s.once.Do(func() {
		s.err = err
		close(s.done)
		s.c.remove(s.id)
		s.disarm()
		if s.release != nil {
			s.release()
		}
		if cancel {
			s.c.cancel(s.id)
		}
	})
}

// arm records how to stop the session's timeout and context watch; if the
// session already finished, they are stopped at once.
func (s *session) arm(stopTimer, stopCtx func() bool) {
	s.armMu.Lock()
	s.stopTimer, s.stopCtx = stopTimer, stopCtx
	s.armMu.Unlock()
	select {
	case <-s.done:
		s.disarm()
	default:
	}
}

func (s *session) disarm() {
	s.armMu.Lock()
	stopTimer, stopCtx := s.stopTimer, s.stopCtx
	s.stopTimer, s.stopCtx = nil, nil
	s.armMu.Unlock()
	if stopTimer != nil {
		stopTimer()
	}
	if stopCtx != nil {
		stopCtx()
	}
}

// push queues a chunk for the consumer. It reports false when the queue is
// full; the caller then waits on room or done and tries again. Chunks for a
// finished session are dropped.
func (s *session) push(msg json.RawMessage) bool {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	select {
	case <-s.done:
		return true
	default:
	}
	if len(s.queue)-s.head >= sessionBuffer {
		return false
	}
	if len(s.queue) == cap(s.queue) && s.head > 0 { // reuse the consumed front
		n := copy(s.queue, s.queue[s.head:])
		clear(s.queue[n:])
		s.queue, s.head = s.queue[:n], 0
	}
	s.queue = append(s.queue, msg)
	if isNote(msg) {
		s.notes++
	}
	signal(s.wake)
	return true
}

// pop takes the oldest queued chunk.
func (s *session) pop() (json.RawMessage, bool) {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	if s.head == len(s.queue) {
		return nil, false
	}
	m := s.queue[s.head]
	s.queue[s.head] = nil
	if isNote(m) {
		s.notes--
	}
	if s.head++; s.head == len(s.queue) {
		s.queue, s.head = s.queue[:0], 0
	}
	if len(s.queue)-s.head == sessionBuffer-1 {
		signal(s.room)
	}
	return m, true
}

// buffered counts the queued chunks, notes left out.
func (s *session) buffered() int {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	return len(s.queue) - s.head - s.notes
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// recv returns the next chunk (skipping notes unless notes is set); once
// the session has ended and its queue is drained, the error it ended with.
func (s *session) recv(notes bool) (json.RawMessage, error) {
	ended := false
	for {
		if m, ok := s.pop(); ok {
			if isNote(m) && !notes {
				continue
			}
			return m, nil
		}
		if ended {
			return nil, s.err
		}
		select {
		case <-s.wake:
		case <-s.done:
			ended = true // drain what is queued, then the error
		}
	}
}

// noteMark starts a queued note (a byte no JSON chunk starts with).
const noteMark = 0x00

func isNote(m json.RawMessage) bool { return len(m) > 0 && m[0] == noteMark }

// note queues a call back's report among the session's chunks, where it
// happened; a full queue drops it rather than wait.
func (s *session) note(ev apispec.CallBackEvent) {
	b, err := json.Marshal(ev)
	if err != nil {
		return
	}
	s.push(append([]byte{noteMark}, b...))
}

// contextError says why a caller's context ended a session.
func contextError(pluginID string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return plugboard.Errorf(plugboard.ETIMEOUT, "plugin %s did not finish before the caller's deadline", pluginID)
	}
	return fmt.Errorf("plugin %s: invocation cancelled by the caller: %w", pluginID, err)
}
