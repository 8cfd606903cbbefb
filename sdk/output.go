package sdk

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/plugboard/plugboard/daemon/protocol"
)

// errClosed is returned by writes after Serve has ended.
var errClosed = errors.New("sdk: plugin output is closed")

// output serialises event lines onto the daemon's pipe. It flushes only when
// no other writer is waiting, so bursts share one write(2) and a lone line
// goes out at once.
type output struct {
	pending atomic.Int32
	mu      sync.Mutex
	w       *bufio.Writer
	err     error // first write error, sticky
	closed  bool
}

func newOutput(w io.Writer) *output {
	return &output{w: bufio.NewWriterSize(w, 64<<10)}
}

// write sends one or more complete lines.
func (o *output) write(lines []byte) error { return o.writeHeld(lines, nil) }

// writeHeld is write, except that the lines stay buffered while hold is set
// (a quick handler running inline: its output goes out with its end frame,
// or when it is handed off). hold is read under the lock, so that a release
// (clear, then flush) never strands a line.
func (o *output) writeHeld(lines []byte, hold *atomic.Bool) error {
	o.pending.Add(1)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.pending.Add(-1)
	if o.closed {
		return errClosed
	}
	if o.err != nil {
		return o.err
	}
	if _, err := o.w.Write(lines); err != nil {
		o.err = err
		return err
	}
	if o.pending.Load() == 0 && (hold == nil || !hold.Load()) {
		o.err = o.w.Flush()
	}
	return o.err
}

// flush sends whatever is buffered.
func (o *output) flush() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.closed && o.err == nil {
		o.err = o.w.Flush()
	}
	return o.err
}

// close flushes and refuses later writes; it returns the first write error.
func (o *output) close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.closed && o.err == nil {
		o.err = o.w.Flush()
	}
	o.closed = true
	return o.err
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// emit builds a line with build into a pooled buffer and writes it, held
// while hold is set.
func (o *output) emit(hold *atomic.Bool, build func([]byte) []byte) error {
	bp := bufPool.Get().(*[]byte)
	b := build((*bp)[:0])
	err := o.writeHeld(b, hold)
	if cap(b) <= 64<<10 {
		*bp = b
		bufPool.Put(bp)
	}
	return err
}

var heartbeatLine = []byte(`{"event":"heartbeat","session_id":null,"data":{}}` + "\n")

func (o *output) heartbeat() error { return o.write(heartbeatLine) }

func (o *output) log(level, message string) error {
	data, err := json.Marshal(protocol.LogData{
		Level:     level,
		Message:   message,
		Timestamp: float64(time.Now().UnixNano()) / 1e9,
	})
	if err != nil {
		return err
	}
	return o.emit(nil, func(b []byte) []byte {
		b = append(b, `{"event":"log","session_id":null,"data":`...)
		b = append(b, data...)
		return append(b, "}\n"...)
	})
}

// appendSession appends one session event line whose data is
// {"type": typ, "data": payload}.
func appendSession(b []byte, session, typ string, payload []byte) []byte {
	b = append(b, `{"event":"session","session_id":`...)
	b = appendString(b, session)
	b = append(b, `,"data":{"type":"`...)
	b = append(b, typ...)
	b = append(b, `","data":`...)
	b = append(b, payload...)
	return append(b, "}}\n"...)
}

// appendToolMessage appends {"type","message","meta"}; meta may be nil.
func appendToolMessage(b []byte, typ string, message, meta []byte) []byte {
	b = append(b, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, `","message":`...)
	b = append(b, message...)
	b = append(b, `,"meta":`...)
	if meta == nil {
		meta = []byte("null")
	}
	b = append(b, meta...)
	return append(b, '}')
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
