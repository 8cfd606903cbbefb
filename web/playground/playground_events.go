package playground

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/daemon/sse"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// sseKeepAlive is how often an idle event stream sends a comment.
const sseKeepAlive = 15 * time.Second

// runEvents streams the run's messages as server-sent events: every stored
// one after Last-Event-ID (each with its seq as id), then live ones as they
// are stored, then a status event and "done" when the run has ended. It only
// reads what the run recorded, so a reconnect never invokes the tool again.
// Once the stream has started, a failure ends it and is logged, once.
func (h *Handlers) runEvents(c echo.Context) error {
	r, err := h.visibleRun(c, c.Param("id"))
	if err != nil {
		return err
	}
	st := &runStream{h: h, c: c, run: r, log: h.Log.With("run", r.ID)}
	if id := c.Request().Header.Get("Last-Event-ID"); id != "" {
		if st.after, err = strconv.Atoi(id); err != nil {
			st.log.Warn("playground events: Last-Event-ID is not a message number; sending every message", "last_event_id", id)
		}
	}
	st.w = sse.Start(c.Response())
	st.ended(st.follow())
	return nil
}

// runStream is one client's event stream of one run.
type runStream struct {
	h     *Handlers
	c     echo.Context
	w     *sse.Writer
	log   *slog.Logger
	run   *store.Run
	after int // the seq of the last message sent
}

// internalError marks why a stream stopped that is the app's fault (the
// store, a template), not the client's.
type internalError struct{ err error }

func (e internalError) Error() string { return e.err.Error() }
func (e internalError) Unwrap() error { return e.err }

func internal(format string, err error) error {
	return internalError{fmt.Errorf(format, err)}
}

// follow sends the run's events until "done"; it returns why it stopped
// before that.
func (st *runStream) follow() error {
	for {
		r, evs, changed, err := st.h.invoker.Follow(page.Ctx(st.c), st.run.ID, st.after)
		if err != nil {
			return internalError{err}
		}
		st.run = r
		if err := st.sendEvents(evs); err != nil {
			return err
		}
		if err := st.sendHTML("", "status", views.RunStatus(st.run)); err != nil {
			return err
		}
		if !st.run.Running() {
			return st.send("", "done", st.run.Status)
		}
		if err := st.idle(changed); err != nil {
			return err
		}
	}
}

// sendEvents sends the messages stored since the last one sent.
func (st *runStream) sendEvents(evs []store.RunEvent) error {
	for _, ev := range evs {
		v, err := eventView(ev)
		if err != nil {
			st.log.Warn("playground events: message shown as far as it decodes", "seq", ev.Seq, "err", err)
		}
		if v.At != 0 {
			v.Since = max(0, v.At-st.run.CreatedAt.UnixMilli())
		}
		if err := st.sendHTML(strconv.Itoa(ev.Seq), "message", views.RunMessage(v)); err != nil {
			return err
		}
		st.after = ev.Seq
	}
	return nil
}

// idle waits for the run to change, sending a keep-alive now and then; it
// returns an error when the client went away.
func (st *runStream) idle(changed <-chan struct{}) error {
	select {
	case <-changed:
		return nil
	case <-page.Ctx(st.c).Done():
		return page.Ctx(st.c).Err()
	case <-time.After(sseKeepAlive):
		if err := st.w.Comment("keep-alive"); err != nil {
			return err
		}
		return st.w.Flush()
	}
}

// sendHTML sends one event whose data is the rendered component.
func (st *runStream) sendHTML(id, event string, comp templ.Component) error {
	var b bytes.Buffer
	if err := comp.Render(page.Ctx(st.c), &b); err != nil {
		return internal("render the "+event+" event: %w", err)
	}
	if err := st.w.Event(id, event, b.Bytes()); err != nil {
		return err
	}
	return st.w.Flush()
}

// send sends one event with text as its data.
func (st *runStream) send(id, event, text string) error {
	if err := st.w.Event(id, event, []byte(text)); err != nil {
		return err
	}
	return st.w.Flush()
}

// ended logs why the stream stopped before "done" (nil: it did not).
func (st *runStream) ended(err error) {
	var ie internalError
	switch {
	case err == nil:
	case page.Ctx(st.c).Err() != nil:
		st.log.Debug("playground events: the client went away", "err", err)
	case errors.As(err, &ie):
		st.log.Error("playground events: stream ended early", "err", err)
	default:
		st.log.Warn("playground events: cannot write to the client", "err", err)
	}
}

// eventView decodes a stored message for the page. A payload that does not
// decode (a plugin's variable or log of another shape) still gives the view
// of what did, and the error.
func eventView(ev store.RunEvent) (views.RunEventView, error) {
	var p invoke.Payload
	err := json.Unmarshal(ev.Payload, &p)
	v := views.RunEventView{Seq: ev.Seq, At: p.At, Type: ev.Type, Text: p.Text, Link: p.Link, MIME: p.MIME, Filename: p.Filename, Size: p.Size,
		Bytes: len(ev.Payload) + p.Size, Since: -1, Stored: prettyJSON(ev.Payload)}
	switch ev.Type {
	case protocol.MessageJSON:
		b, _ := json.MarshalIndent(p.JSON, "", "  ") // decoded from JSON: encodes again
		v.JSON, v.Value = string(b), p.JSON
	case protocol.MessageBlob:
		v.FileURL = fmt.Sprintf("/playground/runs/%s/files/%d", ev.RunID, ev.Seq)
	case protocol.MessageVariable:
		var vm protocol.VariableMessage
		err = cmp.Or(err, redecode(p.Variable, &vm, "variable"))
		val, _ := json.Marshal(vm.VariableValue)
		v.VarName, v.VarValue, v.VarStream = vm.VariableName, string(val), vm.Stream
		if str, ok := vm.VariableValue.(string); ok && vm.Stream {
			v.VarValue = str
		}
	case protocol.MessageLog:
		var lm protocol.LogMessage
		err = cmp.Or(err, redecode(p.Log, &lm, "log"))
		v.LogLabel, v.LogState = lm.Label, lm.Status
		if lm.ParentID != "" {
			v.LogDepth = 1
		}
		if lm.Error != "" {
			v.LogLabel += ": " + lm.Error
		}
	case "error":
		v.Text = p.Message
	case invoke.EventCallBack:
		if cb := p.CallBack; cb != nil {
			v.CallBack = &views.CallBackView{Type: cb.Type, Outcome: cb.Outcome, Error: cb.Error, Ms: cb.DurationMs, Frames: cb.Frames}
		}
	}
	if err != nil {
		err = fmt.Errorf("message %d (%s) of run %s: %w", ev.Seq, ev.Type, ev.RunID, err)
	}
	return v, err
}

// redecode decodes a generically decoded JSON value (what) into out.
func redecode(value any, out any, what string) error {
	b, _ := json.Marshal(value) // decoded from JSON: encodes again
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("the %s does not decode: %w", what, err)
	}
	return nil
}

// prettyJSON indents a stored payload (as it is when it is not JSON).
func prettyJSON(raw []byte) string {
	var b bytes.Buffer
	if json.Indent(&b, raw, "", "  ") != nil {
		return string(raw)
	}
	return b.String()
}

// runFile serves a blob of the run as a download, with the type the plugin
// gave it; images are shown inline by <img>, which ignores the disposition.
func (h *Handlers) runFile(c echo.Context) error {
	r, err := h.visibleRun(c, c.Param("id"))
	if err != nil {
		return err
	}
	seq, err := strconv.Atoi(c.Param("n"))
	if err != nil {
		return plugboard.Errorf(plugboard.ENOTFOUND, "Run %s has no file %q.", r.ID, c.Param("n"))
	}
	ev, err := h.store.RunEvent(page.Ctx(c), r.ID, seq)
	if err != nil {
		return err
	}
	if ev.Type != protocol.MessageBlob {
		return plugboard.Errorf(plugboard.ENOTFOUND, "Message %d of run %s is not a file.", seq, r.ID)
	}
	var p invoke.Payload
	if err := json.Unmarshal(ev.Payload, &p); err != nil {
		h.Log.Warn("playground: file sent without its stored type and name", "run", r.ID, "seq", seq, "err", err)
	}
	ctype := p.MIME
	if _, _, err := mime.ParseMediaType(ctype); err != nil || ctype == "" {
		ctype = "application/octet-stream"
	}
	name := p.Filename
	if name == "" {
		name = fmt.Sprintf("run-%s-%d", r.ID, seq)
	}
	hdr := c.Response().Header()
	hdr.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	hdr.Set("X-Content-Type-Options", "nosniff")
	return c.Blob(http.StatusOK, ctype, ev.Blob)
}
