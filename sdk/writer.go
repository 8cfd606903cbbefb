package sdk

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/plugboard/plugboard/daemon/protocol"
)

// ErrSessionEnded is returned by writes after the handler has returned.
var ErrSessionEnded = errors.New("sdk: session already ended")

// Log statuses for Writer.Log, as in Dify.
const (
	LogStart   = "start"
	LogSuccess = "success"
	LogError   = "error"
)

// Writer sends a session's tool messages. It is safe for concurrent use.
// Every write returns an error once the session is cancelled (the context's
// error), after the handler returned (ErrSessionEnded), or when the daemon's
// pipe failed; a handler should stop on such an error.
type Writer struct {
	out     *output
	session string
	ctx     context.Context
	ended   atomic.Bool
	hold    *atomic.Bool // set while output may wait for the end frame
	srvRef  *server      // for calls back (Session)

	mu   sync.Mutex
	logs map[string]logEntry // id → label and parent, for LogUpdate
}

type logEntry struct{ label, parent string }

func newWriter(ctx context.Context, out *output, session string, hold *atomic.Bool) *Writer {
	return &Writer{out: out, session: session, ctx: ctx, hold: hold}
}

// SessionID returns the id of the session the writer writes to.
func (w *Writer) SessionID() string { return w.session }

// Text sends a text chunk.
func (w *Writer) Text(s string) error { return w.text(protocol.MessageText, s) }

// Link sends a link chunk.
func (w *Writer) Link(url string) error { return w.text(protocol.MessageLink, url) }

// Image sends an image chunk referring to an image by URL.
func (w *Writer) Image(url string) error { return w.text(protocol.MessageImage, url) }

// ImageLink sends an image_link chunk.
func (w *Writer) ImageLink(url string) error { return w.text(protocol.MessageImageLink, url) }

func (w *Writer) text(typ, s string) error {
	if err := w.check(); err != nil {
		return err
	}
	return w.out.emit(w.hold, func(b []byte) []byte {
		b = append(b, `{"event":"session","session_id":`...)
		b = appendString(b, w.session)
		b = append(b, `,"data":{"type":"stream","data":{"type":"`...)
		b = append(b, typ...)
		b = append(b, `","message":{"text":`...)
		b = appendString(b, s)
		return append(b, "},\"meta\":null}}}\n"...)
	})
}

// JSON sends a json chunk whose json_object is v (Dify expects an object).
func (w *Writer) JSON(v any) error {
	return w.Message(protocol.MessageJSON, protocol.JSONMessage{JSONObject: v}, nil)
}

// Variable sets a workflow variable.
func (w *Writer) Variable(name string, value any) error {
	return w.Message(protocol.MessageVariable, protocol.VariableMessage{VariableName: name, VariableValue: value}, nil)
}

// StreamVariable appends piece to a streamed string variable.
func (w *Writer) StreamVariable(name, piece string) error {
	return w.Message(protocol.MessageVariable, protocol.VariableMessage{VariableName: name, VariableValue: piece, Stream: true}, nil)
}

// Message sends a tool message of any type; message and meta are marshalled
// to JSON. The typed methods cover the usual types.
func (w *Writer) Message(typ string, message any, meta map[string]any) error {
	if err := w.check(); err != nil {
		return err
	}
	msg, err := json.Marshal(message)
	if err != nil {
		return fmt.Errorf("sdk: encode %s message: %w", typ, err)
	}
	var metaJSON []byte
	if meta != nil {
		if metaJSON, err = json.Marshal(meta); err != nil {
			return fmt.Errorf("sdk: encode %s meta: %w", typ, err)
		}
	}
	return w.out.emit(w.hold, func(b []byte) []byte {
		return appendSession(b, w.session, protocol.SessionStream, appendToolMessage(nil, typ, msg, metaJSON))
	})
}

// Blob sends data as a file: blob_chunk messages of at most
// protocol.MaxBlobChunk bytes sharing one id, sequences from 0, each with
// total_length and meta {mime_type, filename}, then an empty chunk with
// end true — as Dify's SDK does. The daemon reassembles them into one blob.
func (w *Writer) Blob(data []byte, mime, filename string) error {
	if err := w.check(); err != nil {
		return err
	}
	meta, err := json.Marshal(map[string]any{"mime_type": mime, "filename": filename})
	if err != nil {
		return err
	}
	id := newID()
	var lines []byte
	n := 0
	for off := 0; off < len(data); off += protocol.MaxBlobChunk {
		end := min(off+protocol.MaxBlobChunk, len(data))
		lines = appendBlobChunk(lines, w.session, id, n, len(data), data[off:end], false, meta)
		n++
	}
	lines = appendBlobChunk(lines, w.session, id, n, len(data), nil, true, meta)
	return w.out.writeHeld(lines, w.hold)
}

func appendBlobChunk(b []byte, session, id string, seq, total int, piece []byte, end bool, meta []byte) []byte {
	msg := fmt.Appendf(nil, `{"id":"%s","sequence":%d,"total_length":%d,"blob":"`, id, seq, total)
	msg = base64.StdEncoding.AppendEncode(msg, piece)
	msg = fmt.Appendf(msg, `","end":%t}`, end)
	return appendSession(b, session, protocol.SessionStream, appendToolMessage(nil, protocol.MessageBlobChunk, msg, meta))
}

// Log sends a top-level log entry (label, status LogStart/LogSuccess/LogError,
// data) and returns its id, for LogChild and LogUpdate. A failed write is
// reported by the next write.
func (w *Writer) Log(label, status string, data map[string]any) string {
	return w.LogChild("", label, status, data)
}

// LogChild sends a log entry nested under parent and returns its id.
func (w *Writer) LogChild(parent, label, status string, data map[string]any) string {
	id := newID()
	w.mu.Lock()
	if w.logs == nil {
		w.logs = map[string]logEntry{}
	}
	w.logs[id] = logEntry{label, parent}
	w.mu.Unlock()
	w.sendLog(id, logEntry{label, parent}, status, "", data)
	return id
}

// LogUpdate resends the log entry id with a new status, error text and data
// (Dify's finish_log_message).
func (w *Writer) LogUpdate(id, status, errText string, data map[string]any) error {
	w.mu.Lock()
	e, ok := w.logs[id]
	w.mu.Unlock()
	if !ok {
		return fmt.Errorf("sdk: LogUpdate: no log entry %q in this session", id)
	}
	return w.sendLog(id, e, status, errText, data)
}

func (w *Writer) sendLog(id string, e logEntry, status, errText string, data map[string]any) error {
	if data == nil {
		data = map[string]any{}
	}
	return w.Message(protocol.MessageLog, protocol.LogMessage{
		ID: id, Label: e.label, ParentID: e.parent, Status: status, Error: errText, Data: data,
	}, nil)
}

// Logf sends a plugin-level INFO log event (not part of the tool's output).
func (w *Writer) Logf(format string, args ...any) {
	w.out.log(LevelInfo, fmt.Sprintf(format, args...))
}

// check refuses writes to an ended or cancelled session.
func (w *Writer) check() error {
	if w.ended.Load() {
		return ErrSessionEnded
	}
	return w.ctx.Err()
}

// finish ends the session: an error frame when err is set, then end.
func (w *Writer) finish(err error, defType string) error {
	w.ended.Store(true)
	var lines []byte
	if err != nil {
		typ, msg, args := errorData(err, defType)
		payload, merr := json.Marshal(protocol.ErrorData{ErrorType: typ, Message: msg, Args: args})
		if merr != nil {
			payload, _ = json.Marshal(protocol.ErrorData{ErrorType: typ, Message: msg, Args: map[string]any{}})
		}
		lines = appendSession(lines, w.session, protocol.SessionError, payload)
	}
	lines = appendSession(lines, w.session, protocol.SessionEnd, []byte("{}"))
	return w.out.write(lines)
}

// newID returns 32 random hex digits, like Dify's uuid4().hex.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// raw sends v as a stream chunk as it is, not as a tool message (the answers
// of validate_tool_credentials and get_tool_runtime_parameters).
func (w *Writer) raw(v any) error {
	if err := w.check(); err != nil {
		return err
	}
	payload, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return w.out.emit(w.hold, func(b []byte) []byte {
		return appendSession(b, w.session, protocol.SessionStream, payload)
	})
}
