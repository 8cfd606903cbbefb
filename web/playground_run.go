package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// liveRun is a run whose invocation is going on in this process.
type liveRun struct {
	cancel    context.CancelFunc
	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every new message
	cancelled bool
}

// runHub holds the live runs by id.
type runHub struct {
	mu   sync.Mutex
	runs map[string]*liveRun
}

func newRunHub() *runHub { return &runHub{runs: map[string]*liveRun{}} }

// settleOrphanRuns marks failed the runs an earlier process left "running":
// at start, before this process can have started one.
func (s *Server) settleOrphanRuns(ctx context.Context) {
	if n, err := s.store.InterruptRuns(ctx); err != nil {
		s.log.Error("playground: mark interrupted runs", "err", err)
	} else if n > 0 {
		s.log.Info("playground: runs interrupted by a restart marked failed", "runs", n)
	}
}

func (h *runHub) add(id string, cancel context.CancelFunc) *liveRun {
	lr := &liveRun{cancel: cancel, changed: make(chan struct{})}
	h.mu.Lock()
	h.runs[id] = lr
	h.mu.Unlock()
	return lr
}

func (h *runHub) get(id string) *liveRun {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.runs[id]
}

func (h *runHub) remove(id string) {
	h.mu.Lock()
	delete(h.runs, id)
	h.mu.Unlock()
}

// wait returns a channel closed at the run's next change; nil when the run
// is not live.
func (h *runHub) wait(id string) <-chan struct{} {
	lr := h.get(id)
	if lr == nil {
		return nil
	}
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return lr.changed
}

func (lr *liveRun) notify() {
	lr.mu.Lock()
	close(lr.changed)
	lr.changed = make(chan struct{})
	lr.mu.Unlock()
}

// stop cancels the invocation; closing its context closes the stream, which
// cancels the invoke in the plugin.
func (lr *liveRun) stop() {
	lr.mu.Lock()
	lr.cancelled = true
	lr.mu.Unlock()
	lr.cancel()
}

func (lr *liveRun) wasCancelled() bool {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return lr.cancelled
}

// createRun validates the form, records the run and starts the invocation.
// An htmx request gets the run pane in place of the old one (the form stays
// as typed, so the next run is one click away); others go to the run's page.
func (s *Server) createRun(c echo.Context) error {
	t, err := s.playgroundTool(ctx(c), c.FormValue("pick"))
	if err != nil {
		return s.toolProblem(c, views.PlaygroundPage{Form: views.NewForm()}, err)
	}
	sub, ok := parseToolForm(c, t)
	if !ok {
		return s.renderToolForm(c, http.StatusUnprocessableEntity, t, sub.Form)
	}
	r, err := s.startRun(c, t, sub)
	if r == nil {
		return err
	}
	return s.showStartedRun(c, r)
}

// startRun records the run of a checked submission and starts invoking the
// tool in the background. A nil run with a nil error means the form was
// answered again (its credential cannot be opened).
func (s *Server) startRun(c echo.Context, t *views.PlaygroundTool, sub *toolSubmission) (*store.Run, error) {
	var creds map[string]any
	secrets := sub.Secrets
	if sub.CredentialID != 0 {
		var credSecrets []string
		var err error
		if creds, credSecrets, err = s.credentials().OpenCredential(ctx(c), sub.CredentialID); err != nil {
			sub.Form.Errors["credential"] = "This credential cannot be decrypted; edit it and type its secret again."
			return nil, s.renderToolForm(c, http.StatusUnprocessableEntity, t, sub.Form)
		}
		secrets = append(secrets, credSecrets...)
	}
	u := CurrentUser(c)
	r := &store.Run{UserID: u.ID, Username: u.Username, PluginID: t.PluginID, Provider: t.Provider, Tool: t.Tool,
		CredentialID: sub.CredentialID, Params: sub.Stored}
	// History keeps the files' names; the plugin gets download URLs, whose
	// tokens are made as the run and its files are stored.
	putFileValues(r.Params, t, sub.Files, storedFile)
	if err := s.store.CreateRun(ctx(c), r, sub.Files...); err != nil {
		return nil, err
	}
	base := s.publicBase(c)
	putFileValues(sub.Params, t, sub.Files, func(f *store.RunFile) map[string]any { return difyFile(f, base) })
	data := apispec.InvokeToolData{Provider: t.Provider, Tool: t.Tool, ToolParameters: sub.Params, Credentials: creds}
	if creds != nil {
		data.CredentialType = "api-key"
	}
	runCtx, cancel := context.WithCancel(context.Background())
	lr := s.live.add(r.ID, cancel)
	go s.invoke(runCtx, lr, r, data, secret.NewRedactor(secrets...))
	return r, nil
}

// showStartedRun answers a started run: the run pane for htmx (and the
// run's URL for the address bar), else a redirect to the run's page.
func (s *Server) showStartedRun(c echo.Context, r *store.Run) error {
	path := "/playground/runs/" + r.ID
	if !isHTMX(c) {
		return s.redirect(c, path)
	}
	c.Response().Header().Set("HX-Push-Url", path)
	d := s.runPageData(c, r, nil)
	return s.render(c, http.StatusOK, views.RunPane(s.chrome(c, "Run "+r.Tool, views.NavPlayground), &d))
}

// invoke runs the tool and records every message until the stream ends,
// with the run's secret values (red) redacted from all it stores.
func (s *Server) invoke(ctx context.Context, lr *liveRun, r *store.Run, data apispec.InvokeToolData, red *secret.Redactor) {
	defer s.live.remove(r.ID)
	defer lr.notify()
	defer lr.cancel()
	start := time.Now()
	rec := &runRecorder{s: s, lr: lr, runID: r.ID, red: red}
	status, reason := s.streamRun(ctx, rec, r, data)
	rec.flush()
	reason = red.String(reason)
	if lr.wasCancelled() {
		status, reason = store.RunCancelled, ""
	}
	s.metrics.run(r.PluginID, status, time.Since(start))
	if err := s.store.FinishRun(context.Background(), r.ID, status, reason); err != nil {
		s.log.Error("playground: finish run", "run", r.ID, "err", err)
	}
}

// streamRun reads the tool's messages into the run; it returns how the run
// ended.
func (s *Server) streamRun(ctx context.Context, rec *runRecorder, r *store.Run, data apispec.InvokeToolData) (string, string) {
	lr := rec.lr
	stream, err := s.daemon.InvokeTool(ctx, r.PluginID, data, r.Username)
	if err != nil {
		return store.RunFailed, invokeProblem(err)
	}
	defer stream.Close()
	go func() { <-ctx.Done(); stream.Close() }()
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
			s.appendEvent(lr, &store.RunEvent{RunID: r.ID, Type: "error", Payload: mustJSON(eventPayload{Message: msg})})
			return store.RunFailed, msg
		}
		rec.record(m)
	}
}

// runRecorder stores a run's messages with its secrets redacted. Text
// chunks pass through the redactor's stream, so a secret split across
// chunks is caught; the text it holds back is stored before the next
// message of another kind, and at the end.
type runRecorder struct {
	s     *Server
	lr    *liveRun
	runID string
	red   *secret.Redactor
}

func (rec *runRecorder) record(m *client.Message) {
	if m.Type == protocol.MessageText {
		if m.Text = rec.red.Stream(m.Text); m.Text == "" {
			return // all held back, maybe the start of a secret
		}
	} else {
		rec.flush()
		redactMessage(rec.red, m)
	}
	rec.s.appendEvent(rec.lr, eventOf(rec.runID, m))
}

// flush stores the text the redactor still holds.
func (rec *runRecorder) flush() {
	if text := rec.red.Flush(); text != "" {
		rec.s.appendEvent(rec.lr, eventOf(rec.runID, &client.Message{Type: protocol.MessageText, Text: text}))
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

func (s *Server) appendEvent(lr *liveRun, ev *store.RunEvent) {
	if err := s.store.AppendRunEvent(context.Background(), ev); err != nil {
		s.log.Error("playground: store message", "run", ev.RunID, "err", err)
	}
	lr.notify()
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
	return page.DaemonProblem(err)
}

// eventPayload is the stored form of one tool message (blobs apart).
type eventPayload struct {
	Text     string `json:"text,omitempty"`
	JSON     any    `json:"json,omitempty"`
	Link     string `json:"link,omitempty"`
	MIME     string `json:"mime,omitempty"`
	Filename string `json:"filename,omitempty"`
	Size     int    `json:"size,omitempty"`
	Variable any    `json:"variable,omitempty"`
	Log      any    `json:"log,omitempty"`
	Message  string `json:"message,omitempty"`
	// At is when the message arrived, in Unix milliseconds.
	At int64 `json:"at,omitempty"`
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(eventPayload{Message: "unrepresentable message: " + err.Error()})
	}
	return b
}

// eventOf turns a client message into the run's event.
func eventOf(runID string, m *client.Message) *store.RunEvent {
	p := eventPayload{Text: m.Text, JSON: m.JSON, Link: m.Link, MIME: m.MIME, Filename: m.Filename, Size: len(m.Blob),
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
	return &store.RunEvent{RunID: runID, Type: m.Type, Payload: mustJSON(p), Blob: m.Blob}
}

// visibleRun loads a run the signed-in user may see: members their own,
// admins all. Anything else is "not found".
func (s *Server) visibleRun(c echo.Context, id string) (*store.Run, error) {
	r, err := s.store.FindRun(ctx(c), id)
	if err != nil {
		return nil, err
	}
	u := CurrentUser(c)
	if u == nil || (r.UserID != u.ID && !u.Role.AtLeast(store.RoleAdmin)) {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "There is no run %q.", id)
	}
	return r, nil
}

// runPage shows a run beside its tool's form, filled with the run's
// parameters (secrets and files left out); its output follows over SSE.
func (s *Server) runPage(c echo.Context) error {
	r, err := s.visibleRun(c, c.Param("id"))
	if err != nil {
		return err
	}
	var evs []store.RunEvent
	if !r.Running() {
		if evs, err = s.store.RunEvents(ctx(c), r.ID, 0); err != nil {
			return err
		}
	}
	d := s.runPageData(c, r, evs)
	pg := views.PlaygroundPage{Form: views.NewForm(), Run: &d}
	entries, err := s.daemon.Tools(ctx(c), 1, pluginListSize)
	if err != nil {
		pg.Problem = page.DaemonProblem(err)
	}
	pg.Tools = toolChoices(entries)
	switch t, err := s.playgroundTool(ctx(c), runPick(r)); {
	case err == nil:
		pg.Picked = t
		pg.Form = defaultToolForm(t)
		fillFromRun(pg.Form, t, r)
	case plugboard.ErrorCode(err) == plugboard.ENOTFOUND:
		pg.Gone = err.Error() + " The run is kept; its form is not."
	}
	return s.render(c, http.StatusOK, views.Playground(s.chrome(c, "Run "+r.Tool, views.NavPlayground), pg))
}

// runPick names a run's tool as the picker does.
func runPick(r *store.Run) string { return r.PluginID + ":" + r.Provider + ":" + r.Tool }

// cancelRun stops a live run; the plugin sees the invoke cancelled. An htmx
// request gets no content: the run's event stream shows the new status.
func (s *Server) cancelRun(c echo.Context) error {
	r, err := s.visibleRun(c, c.Param("id"))
	if err != nil {
		return err
	}
	if lr := s.live.get(r.ID); lr != nil {
		lr.stop()
	}
	if isHTMX(c) {
		return c.NoContent(http.StatusNoContent)
	}
	return s.redirect(c, "/playground/runs/"+r.ID)
}

// deleteRun cancels a live run and removes it with its output.
func (s *Server) deleteRun(c echo.Context) error {
	r, err := s.visibleRun(c, c.Param("id"))
	if err != nil {
		return err
	}
	if lr := s.live.get(r.ID); lr != nil {
		lr.stop()
	}
	if err := s.store.DeleteRun(ctx(c), r.ID); err != nil {
		return err
	}
	return s.flashRedirect(c, "Deleted the run of "+r.Tool+".", "/playground/runs")
}
