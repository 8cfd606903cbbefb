// Package sse writes server-sent events (the text/event-stream format of the
// HTML standard): the daemon's API streams tool output with it and the admin
// app streams playground runs. It only frames and flushes; what an event
// means is up to the caller.
package sse

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Writer writes events to one response. It keeps the first write error and
// refuses everything after it, so a stream never goes on past a broken frame.
type Writer struct {
	w     http.ResponseWriter
	rc    *http.ResponseController
	buf   []byte // the frame being written
	lines []byte // multi-line data, while it is split into data lines
	err   error
}

// Start answers the request as an event stream (status 200, no caching, no
// proxy buffering) and returns the writer for its events.
func Start(w http.ResponseWriter) *Writer {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	return &Writer{w: w, rc: http.NewResponseController(w), buf: make([]byte, 0, 1024)}
}

// Event writes one event: an id line when id is set, an event line when name
// is set, and the data (the concatenation of parts) as data lines, one per
// line of it, so data holding CR or LF arrives whole. It does not flush.
func (w *Writer) Event(id, name string, parts ...[]byte) error {
	if err := field("id", id); err != nil {
		return err
	}
	if strings.IndexByte(id, 0) >= 0 {
		return fmt.Errorf("event stream: id %q holds NUL, which clients ignore", id)
	}
	if err := field("event", name); err != nil {
		return err
	}
	b := w.buf[:0]
	if id != "" {
		b = append(append(append(b, "id: "...), id...), '\n')
	}
	if name != "" {
		b = append(append(append(b, "event: "...), name...), '\n')
	}
	b = append(b, "data: "...)
	start := len(b)
	for _, p := range parts {
		b = append(b, p...)
	}
	if data := b[start:]; bytes.IndexByte(data, '\n') >= 0 || bytes.IndexByte(data, '\r') >= 0 {
		w.lines = append(w.lines[:0], data...)
		b = appendLines(b[:start], w.lines)
	}
	w.buf = append(b, "\n\n"...)
	return w.write(w.buf)
}

// Comment writes a comment line, which clients ignore: a keep-alive for
// proxies that close idle connections. It does not flush.
func (w *Writer) Comment(text string) error {
	if err := field("comment", text); err != nil {
		return err
	}
	w.buf = append(append(append(w.buf[:0], ": "...), text...), "\n\n"...)
	return w.write(w.buf)
}

// Flush sends what was written to the client. A wrapper whose Flush reports
// no errors (echo's Response) hides a failure here; net/http then reports it
// at a later write and cancels the request's context.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if err := w.rc.Flush(); err != nil {
		w.err = fmt.Errorf("event stream: flush: %w", err)
	}
	return w.err
}

func (w *Writer) write(frame []byte) error {
	if w.err != nil {
		return w.err
	}
	if _, err := w.w.Write(frame); err != nil {
		w.err = fmt.Errorf("event stream: write: %w", err)
	}
	return w.err
}

// appendLines appends data to a data field, starting a new data line at
// each of its line breaks (CRLF, LF or CR, as the standard reads them).
func appendLines(b, data []byte) []byte {
	for {
		i := bytes.IndexAny(data, "\r\n")
		if i < 0 {
			return append(b, data...)
		}
		b = append(append(b, data[:i]...), "\ndata: "...)
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
}

// ErrLineBreak is returned for an id, event name or comment holding a line
// break, which would end its field early and corrupt the stream.
var ErrLineBreak = errors.New("event stream: line break in a single-line field")

func field(name, v string) error {
	if v != "" && strings.ContainsAny(v, "\r\n") {
		return fmt.Errorf("%w: %s %q", ErrLineBreak, name, v)
	}
	return nil
}
