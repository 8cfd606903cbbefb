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
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/errs"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
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

// createRun validates the form, records the run and starts the invocation;
// the browser goes to the run's page, which follows its events.
func (s *Server) createRun(c echo.Context) error {
	t, err := s.playgroundTool(ctx(c), c.FormValue("pick"))
	if err != nil {
		return s.toolProblem(c, views.PlaygroundPage{Form: views.NewForm()}, err)
	}
	sub, ok := parseToolForm(c, t)
	if !ok {
		return s.renderToolForm(c, http.StatusUnprocessableEntity, t, sub.Form)
	}
	var creds map[string]any
	if sub.CredentialID != 0 {
		if creds, err = s.credentials().DecryptedCredential(ctx(c), sub.CredentialID); err != nil {
			sub.Form.Errors["credential"] = "This credential cannot be decrypted; edit it and type its secret again."
			return s.renderToolForm(c, http.StatusUnprocessableEntity, t, sub.Form)
		}
	}
	u := CurrentUser(c)
	r := &store.Run{UserID: u.ID, Username: u.Username, PluginID: t.PluginID, Provider: t.Provider, Tool: t.Tool,
		CredentialID: sub.CredentialID, Params: sub.Stored}
	// History keeps the files' names; the plugin gets download URLs, whose
	// tokens are made as the run and its files are stored.
	putFileValues(r.Params, t, sub.Files, storedFile)
	if err := s.store.CreateRun(ctx(c), r, sub.Files...); err != nil {
		return err
	}
	base := s.publicBase(c)
	putFileValues(sub.Params, t, sub.Files, func(f *store.RunFile) map[string]any { return difyFile(f, base) })
	data := apispec.InvokeToolData{Provider: t.Provider, Tool: t.Tool, ToolParameters: sub.Params, Credentials: creds}
	if creds != nil {
		data.CredentialType = "api-key"
	}
	runCtx, cancel := context.WithCancel(context.Background())
	lr := s.live.add(r.ID, cancel)
	go s.invoke(runCtx, lr, r, data)
	return s.redirect(c, "/playground/runs/"+r.ID)
}

// invoke runs the tool and records every message until the stream ends.
func (s *Server) invoke(ctx context.Context, lr *liveRun, r *store.Run, data apispec.InvokeToolData) {
	defer s.live.remove(r.ID)
	defer lr.notify()
	defer lr.cancel()
	start := time.Now()
	status, reason := s.streamRun(ctx, lr, r, data)
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
func (s *Server) streamRun(ctx context.Context, lr *liveRun, r *store.Run, data apispec.InvokeToolData) (string, string) {
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
			msg := invokeProblem(err)
			s.appendEvent(lr, &store.RunEvent{RunID: r.ID, Type: "error", Payload: mustJSON(eventPayload{Message: msg})})
			return store.RunFailed, msg
		}
		s.appendEvent(lr, eventOf(r.ID, m))
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
	return daemonProblem(err)
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
		return nil, errs.Errorf(errs.NotFound, "There is no run %q.", id)
	}
	return r, nil
}

// runPage shows a run; its output follows over SSE.
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
	return s.render(c, http.StatusOK, views.RunPage(s.chrome(c, "Run "+r.Tool, views.NavPlayground), s.runPageData(r, evs)))
}

// runs lists the user's runs, or everyone's for admins.
func (s *Server) runs(c echo.Context) error {
	u := CurrentUser(c)
	all := u.Role.AtLeast(store.RoleAdmin)
	f := store.RunFilter{UserID: u.ID}
	if all {
		f.UserID = 0
	}
	runs, err := s.store.FindRuns(ctx(c), f)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.RunsPage(s.chrome(c, "Run history", views.NavPlayground), runs, all))
}

// cancelRun stops a live run; the plugin sees the invoke cancelled.
func (s *Server) cancelRun(c echo.Context) error {
	r, err := s.visibleRun(c, c.Param("id"))
	if err != nil {
		return err
	}
	if lr := s.live.get(r.ID); lr != nil {
		lr.stop()
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
