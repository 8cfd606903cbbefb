package invoke

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
)

// interrupted is why a run ends when the service closes under it.
const interrupted = "The run was interrupted."

// prepared is a recorded run ready to be invoked.
type prepared struct {
	run *store.Run
	// recorded says whether the run is in the store already (see liveRun);
	// later whether, if not, its end may be written after Call returns.
	recorded, later bool
	data            apispec.InvokeToolData
	red             *secret.Redactor
	// depth is the call back's depth the tool runs for (0: none).
	depth int
}

// execute runs the tool and records every message until the stream ends,
// with the run's secret values redacted from all it stores, then records
// how the run ended (with the messages still buffered, in one
// transaction); it returns the run as recorded then (nil: not read).
func (s *Service) execute(ctx context.Context, lr *liveRun, p *prepared, onMessage func(*client.Message)) *store.Run {
	r := p.run
	defer s.live.remove(r.ID)
	defer lr.notify()
	defer lr.cancel()
	start := time.Now()
	rec := &recorder{s: s, lr: lr, runID: r.ID, red: p.red, onMessage: onMessage}
	if p.depth > 0 {
		ctx = client.WithCallDepth(ctx, p.depth)
	}
	ctx = client.WithCallBackEvents(ctx) // the plugin's calls back become run events too
	status, reason := s.stream(ctx, rec, r, p.data)
	rec.flush()
	reason = p.red.String(reason)
	switch {
	case lr.wasCancelled():
		status, reason = store.RunCancelled, ""
	case s.ctx.Err() != nil && status != store.RunDone:
		status, reason = store.RunFailed, interrupted
	}
	if s.cfg.Finished != nil {
		s.cfg.Finished(r.PluginID, status, time.Since(start))
	}
	lr.rec.Lock()
	defer lr.rec.Unlock()
	pending := lr.pending
	lr.pending, lr.buffer = nil, false
	if !lr.recorded {
		if lr.deleted {
			return nil // deleted while it ran: nothing to record
		}
		ended := *r
		ended.Status, ended.Error = status, reason
		var err error
		if p.later {
			err = s.store.SaveRunLater(context.Background(), &ended, pending, func(err error) {
				if err != nil {
					s.log.Error("playground: record run", "run", r.ID, "err", err)
				}
			})
		} else {
			err = s.store.SaveRun(context.Background(), &ended, pending)
		}
		if err != nil {
			s.log.Error("playground: record run", "run", r.ID, "err", err)
			return nil
		}
		lr.recorded = true
		return &ended
	}
	ended, err := s.store.EndRun(context.Background(), r.ID, status, reason, pending)
	if err != nil {
		s.log.Error("playground: finish run", "run", r.ID, "err", err)
		return nil
	}
	return ended
}

// record stores the run as running if it is not stored yet (lr.rec held).
func (s *Service) record(lr *liveRun) error {
	if lr.recorded {
		return nil
	}
	if err := s.store.CreateRun(context.Background(), lr.run); err != nil {
		return err
	}
	lr.recorded = true
	return nil
}

// recordRunning records a run that is taking longer than recordAfter as
// running, so that the history shows it and a restart settles it.
func (s *Service) recordRunning(lr *liveRun) {
	lr.rec.Lock()
	defer lr.rec.Unlock()
	if !lr.deleted {
		if err := s.record(lr); err != nil {
			s.log.Error("playground: record running run", "run", lr.run.ID, "err", err)
		}
	}
}

// stream reads the tool's messages into the run; it returns how the run
// ended.
func (s *Service) stream(ctx context.Context, rec *recorder, r *store.Run, data apispec.InvokeToolData) (string, string) {
	lr := rec.lr
	stream, err := s.daemon.InvokeTool(ctx, r.PluginID, data, r.Username)
	if err != nil {
		return store.RunFailed, invokeProblem(err)
	}
	defer stream.Close()
	stop := context.AfterFunc(ctx, func() { stream.Close() }) // a cancel closes the stream, which cancels the plugin's invoke
	defer stop()
	for {
		m, err := stream.Next()
		if errors.Is(err, io.EOF) {
			return store.RunDone, ""
		}
		if err != nil && lr.wasCancelled() {
			return store.RunCancelled, ""
		}
		if err != nil {
			msg := rec.red.String(invokeProblem(err))
			rec.flush()
			s.appendEvent(lr, &store.RunEvent{RunID: r.ID, Type: "error", Payload: mustJSON(Payload{Message: msg})})
			return store.RunFailed, msg
		}
		rec.record(m)
	}
}

// recorder stores a run's messages with its secrets redacted. Text chunks
// pass through the redactor's stream, so a secret split across chunks is
// caught; the text it holds back is stored before the next message of
// another kind, and at the end.
type recorder struct {
	s         *Service
	lr        *liveRun
	runID     string
	red       *secret.Redactor
	onMessage func(*client.Message)
}

func (rec *recorder) record(m *client.Message) {
	switch {
	case m.Type == client.MessageCallBack:
		rec.flush() // the text before it is stored before it
		if m.CallBack != nil {
			cb := *m.CallBack
			cb.Error = rec.red.String(cb.Error)
			m.CallBack = &cb
		}
	case m.Type == protocol.MessageText:
		if m.Text = rec.red.Stream(m.Text); m.Text == "" {
			return // all held back, maybe the start of a secret
		}
	default:
		rec.flush()
		redactMessage(rec.red, m)
	}
	rec.store(m)
}

// flush stores the text the redactor still holds.
func (rec *recorder) flush() {
	if text := rec.red.Flush(); text != "" {
		rec.store(&client.Message{Type: protocol.MessageText, Text: text})
	}
}

// store records one redacted message and hands it to the caller.
func (rec *recorder) store(m *client.Message) {
	m.Raw, m.Meta = nil, nil // as received: not redacted
	rec.s.appendEvent(rec.lr, eventOf(rec.runID, m))
	if rec.onMessage != nil {
		rec.onMessage(m)
	}
}

// redactMessage hides secret values in every part of a non-text message.
func redactMessage(red *secret.Redactor, m *client.Message) {
	m.Text, m.Link, m.Filename, m.MIME = red.String(m.Text), red.String(m.Link), red.String(m.Filename), red.String(m.MIME)
	m.JSON = red.Value(m.JSON)
	m.Blob = red.Bytes(m.Blob)
	if m.Variable != nil {
		v := *m.Variable
		v.VariableName, v.VariableValue = red.String(v.VariableName), red.Value(v.VariableValue)
		m.Variable = &v
	}
	if m.Log != nil {
		l := *m.Log
		l.Label, l.Error = red.String(l.Label), red.String(l.Error)
		l.Data, _ = red.Value(l.Data).(map[string]any)
		l.Metadata, _ = red.Value(l.Metadata).(map[string]any)
		m.Log = &l
	}
}

// appendEvent stores one of the run's events, or keeps it for the run's
// end while the run buffers (see liveRun).
func (s *Service) appendEvent(lr *liveRun, ev *store.RunEvent) {
	ev.At = time.Now()
	lr.rec.Lock()
	if lr.buffer {
		lr.pending = append(lr.pending, ev)
		lr.rec.Unlock()
		return
	}
	err := s.store.AppendRunEvent(context.Background(), ev)
	lr.rec.Unlock()
	if err != nil {
		s.log.Error("playground: store message", "run", ev.RunID, "err", err)
	}
	lr.notify()
}

// unbuffer stores the events the run keeps for its end and stores the
// next ones as they come: someone follows the run.
func (s *Service) unbuffer(lr *liveRun) {
	lr.rec.Lock()
	defer lr.rec.Unlock()
	if !lr.buffer {
		return
	}
	if lr.deleted {
		return // deleted while it ran: nothing to record, nothing to follow
	}
	if err := s.record(lr); err != nil {
		s.log.Error("playground: record followed run", "run", lr.run.ID, "err", err)
		return // still buffered: its end records it with all its messages
	}
	lr.buffer = false
	if err := s.store.AppendRunEvents(context.Background(), lr.pending); err != nil {
		s.log.Error("playground: store messages", "err", err)
	}
	lr.pending = nil
}

// invokeProblem words why an invocation failed: the plugin's own message
// when it gave one.
func invokeProblem(err error) string {
	var ce *client.Error
	if errors.As(err, &ce) {
		if typ, msg := ce.PluginError(); msg != "" {
			if typ != "" {
				return typ + ": " + msg
			}
			return msg
		}
		if ce.Message != "" {
			return ce.Message // the daemon's own words: a crash, a timeout
		}
	}
	if errors.Is(err, context.Canceled) {
		return "cancelled"
	}
	return daemonProblem(err)
}

// daemonProblem words an error of a call to the daemon for a user: its
// own message, or that the daemon did not answer and why.
func daemonProblem(err error) string {
	if plugboard.ErrorCode(err) != plugboard.EINTERNAL {
		return plugboard.ErrorMessage(err)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return "The daemon did not answer: no answer in time."
		}
		err = ue.Err
	}
	return "The daemon did not answer: " + err.Error() + "."
}

// EventCallBack is the type of a run event reporting one of the plugin's
// calls back into the platform (client.MessageCallBack): a run event, not
// one of the tool's messages, so no observation includes it.
const EventCallBack = store.RunEventCallBack

// Payload is the stored form of one tool message (blobs apart), as a run
// event's payload holds it.
type Payload struct {
	Text     string `json:"text,omitempty"`
	JSON     any    `json:"json,omitempty"`
	Link     string `json:"link,omitempty"`
	MIME     string `json:"mime,omitempty"`
	Filename string `json:"filename,omitempty"`
	Size     int    `json:"size,omitempty"`
	Variable any    `json:"variable,omitempty"`
	Log      any    `json:"log,omitempty"`
	// Message is an "error" event's message.
	Message string `json:"message,omitempty"`
	// CallBack is an EventCallBack event's report: the call back's type,
	// time and outcome (never its request or answer).
	CallBack *apispec.CallBackEvent `json:"call_back,omitempty"`
	// At is when the message arrived, in Unix milliseconds.
	At int64 `json:"at,omitempty"`
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(Payload{Message: "unrepresentable message: " + err.Error()})
	}
	return b
}

// eventOf turns a client message into the run's event.
func eventOf(runID string, m *client.Message) *store.RunEvent {
	p := Payload{Text: m.Text, JSON: m.JSON, Link: m.Link, MIME: m.MIME, Filename: m.Filename, Size: len(m.Blob),
		At: time.Now().UnixMilli()}
	if m.Link == "" && m.Type != "text" {
		p.Link = m.Text
	}
	if m.Variable != nil {
		p.Variable = m.Variable
	}
	if m.Log != nil {
		p.Log = m.Log
	}
	typ := m.Type
	if typ == client.MessageCallBack {
		typ, p.CallBack, p.Link = EventCallBack, m.CallBack, ""
	}
	return &store.RunEvent{RunID: runID, Type: typ, Payload: mustJSON(p), Blob: m.Blob}
}
