package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"github.com/plugboard/plugboard/daemon/errs"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
)

// sseKeepAlive is how often an idle event stream sends a comment.
const sseKeepAlive = 15 * time.Second

// runEvents streams the run's messages as server-sent events: every stored
// one after Last-Event-ID (each with its seq as id), then live ones as they
// are stored, then a status event and "done" when the run has ended. It only
// reads what the run recorded, so a reconnect never invokes the tool again.
func (s *Server) runEvents(c echo.Context) error {
	r, err := s.visibleRun(c, c.Param("id"))
	if err != nil {
		return err
	}
	after, _ := strconv.Atoi(c.Request().Header.Get("Last-Event-ID"))
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/event-stream")
	w.Header().Set(echo.HeaderCacheControl, "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	for {
		changed := s.live.wait(r.ID) // before reading, so no change is missed
		// The status before the messages: a run recorded as ended has stored
		// all of its messages, so the read below gets the last of them.
		if r, err = s.store.FindRun(ctx(c), r.ID); err != nil {
			return nil
		}
		evs, err := s.store.RunEvents(ctx(c), r.ID, after)
		if err != nil {
			return nil
		}
		for _, ev := range evs {
			if err := s.writeEvent(c, r, ev); err != nil {
				return nil
			}
			after = ev.Seq
		}
		if changed == nil && r.Running() {
			// Nothing in this process runs it any more (a restart).
			s.store.FinishRun(ctx(c), r.ID, store.RunFailed, "The run was interrupted.")
			continue
		}
		if err := writeSSE(w, "", "status", renderString(c, views.RunStatus(r))); err != nil {
			return nil
		}
		if !r.Running() {
			writeSSE(w, "", "done", r.Status)
			return nil
		}
		w.Flush()
		select {
		case <-changed:
		case <-c.Request().Context().Done():
			return nil
		case <-time.After(sseKeepAlive):
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil {
				return nil
			}
		}
	}
}

// writeEvent sends one stored message, rendered and raw, with its seq as id.
func (s *Server) writeEvent(c echo.Context, r *store.Run, ev store.RunEvent) error {
	v := eventView(ev)
	if v.At != 0 {
		v.Since = max(0, v.At-r.CreatedAt.UnixMilli())
	}
	return writeSSE(c.Response(), strconv.Itoa(ev.Seq), "message", renderString(c, views.RunMessage(v)))
}

// writeSSE writes one event; data may span lines.
func writeSSE(w *echo.Response, id, event, data string) error {
	var b strings.Builder
	if id != "" {
		fmt.Fprintf(&b, "id: %s\n", id)
	}
	fmt.Fprintf(&b, "event: %s\n", event)
	for _, line := range strings.Split(data, "\n") {
		fmt.Fprintf(&b, "data: %s\n", line)
	}
	b.WriteString("\n")
	_, err := w.Write([]byte(b.String()))
	w.Flush()
	return err
}

// renderString renders a component to a string ("" on error).
func renderString(c echo.Context, comp templ.Component) string {
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return ""
	}
	return buf.String()
}

// eventView decodes a stored message for the page.
func eventView(ev store.RunEvent) views.RunEventView {
	var p eventPayload
	json.Unmarshal(ev.Payload, &p)
	v := views.RunEventView{Seq: ev.Seq, At: p.At, Type: ev.Type, Text: p.Text, Link: p.Link, MIME: p.MIME, Filename: p.Filename, Size: p.Size,
		Bytes: len(ev.Payload) + p.Size, Since: -1, Stored: prettyJSON(ev.Payload)}
	switch ev.Type {
	case protocol.MessageJSON:
		b, _ := json.MarshalIndent(p.JSON, "", "  ")
		v.JSON, v.Value = string(b), p.JSON
	case protocol.MessageBlob:
		v.FileURL = fmt.Sprintf("/playground/runs/%s/files/%d", ev.RunID, ev.Seq)
	case protocol.MessageVariable:
		var vm protocol.VariableMessage
		b, _ := json.Marshal(p.Variable)
		json.Unmarshal(b, &vm)
		val, _ := json.Marshal(vm.VariableValue)
		v.VarName, v.VarValue, v.VarStream = vm.VariableName, string(val), vm.Stream
		if str, ok := vm.VariableValue.(string); ok && vm.Stream {
			v.VarValue = str
		}
	case protocol.MessageLog:
		var lm protocol.LogMessage
		b, _ := json.Marshal(p.Log)
		json.Unmarshal(b, &lm)
		v.LogLabel, v.LogState = lm.Label, lm.Status
		if lm.ParentID != "" {
			v.LogDepth = 1
		}
		if lm.Error != "" {
			v.LogLabel += ": " + lm.Error
		}
	case "error":
		v.Text = p.Message
	}
	return v
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
func (s *Server) runFile(c echo.Context) error {
	r, err := s.visibleRun(c, c.Param("id"))
	if err != nil {
		return err
	}
	seq, err := strconv.Atoi(c.Param("n"))
	if err != nil {
		return errs.Errorf(errs.NotFound, "Run %s has no file %q.", r.ID, c.Param("n"))
	}
	ev, err := s.store.RunEvent(ctx(c), r.ID, seq)
	if err != nil {
		return err
	}
	if ev.Type != protocol.MessageBlob {
		return errs.Errorf(errs.NotFound, "Message %d of run %s is not a file.", seq, r.ID)
	}
	var p eventPayload
	json.Unmarshal(ev.Payload, &p)
	ctype := p.MIME
	if _, _, err := mime.ParseMediaType(ctype); err != nil || ctype == "" {
		ctype = "application/octet-stream"
	}
	name := p.Filename
	if name == "" {
		name = fmt.Sprintf("run-%s-%d", r.ID, seq)
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("X-Content-Type-Options", "nosniff")
	return c.Blob(http.StatusOK, ctype, ev.Blob)
}
