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

	"github.com/plugboard/plugboard/daemon/errs"
)

// sessionBuffer is how many chunks a session holds before the reader waits
// for its consumer.
const sessionBuffer = 256

var (
	errEnd          = io.EOF
	errStreamClosed = errs.Errorf(errs.Unavailable, "the stream was closed")
)

// session is one invocation: the chunks the plugin streams for it, and how it
// ended.
type session struct {
	id   string
	c    *conn
	ch   chan json.RawMessage
	done chan struct{}
	once sync.Once
	err  error // how it ended; read only after done is closed

	release func() // frees the concurrency slot

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
		ch:      make(chan json.RawMessage, sessionBuffer),
		done:    make(chan struct{}),
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

// recv returns the next chunk; once the session has ended and its buffer is
// drained, the error it ended with.
func (s *session) recv() (json.RawMessage, error) {
	select {
	case m := <-s.ch:
		return m, nil
	case <-s.done:
	}
	select {
	case m := <-s.ch:
		return m, nil
	default:
		return nil, s.err
	}
}

// contextError says why a caller's context ended a session.
func contextError(pluginID string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return errs.Errorf(errs.Timeout, "plugin %s did not finish before the caller's deadline", pluginID)
	}
	return fmt.Errorf("plugin %s: invocation cancelled by the caller: %w", pluginID, err)
}
