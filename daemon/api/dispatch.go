package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/innerapi"
	"github.com/plugboard/plugboard/daemon/metrics"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/daemon/runtime"
	"github.com/plugboard/plugboard/daemon/sse"
)

// HeaderPluginID names the plugin (author/name) a dispatch route invokes.
const HeaderPluginID = "X-Plugin-ID"

// The envelope around a raw tool message in its SSE frame.
var (
	framePrefix = []byte(`{"code":0,"message":"success","data":`)
	frameSuffix = []byte("}")
)

// requirePluginID rejects dispatches without a well-formed X-Plugin-ID.
func (s *server) requirePluginID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := checkPluginID(c.Request().Header.Get(HeaderPluginID)); err != nil {
			return err
		}
		return next(c)
	}
}

// checkPluginID checks a dispatch's X-Plugin-ID.
func checkPluginID(id string) error {
	if id == "" {
		return plugboard.Errorf(plugboard.EINVALID, "header %s (author/name of the plugin) is required", HeaderPluginID)
	}
	if !plugboard.ValidPluginID(id) {
		return plugboard.Errorf(plugboard.EINVALID, "header %s must be author/name, not %q", HeaderPluginID, id)
	}
	return nil
}

func (s *server) invokeTool(c echo.Context) error {
	var req apispec.InvokeRequest[apispec.InvokeToolData]
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	rd, err := toolRequest(req)
	if err != nil {
		return err
	}
	return s.dispatch(c, rd)
}

// toolRequest is the plugin's request of a tool invocation, once the
// request is checked (over HTTP and in process alike).
func toolRequest(req apispec.InvokeRequest[apispec.InvokeToolData]) (*protocol.RequestData, error) {
	d := req.Data
	if err := requireFields(d.Provider, "data.provider", d.Tool, "data.tool"); err != nil {
		return nil, err
	}
	if d.CredentialType != "" && !protocol.ValidCredentialType(d.CredentialType) {
		return nil, plugboard.Errorf(plugboard.EINVALID, "data.credential_type must be %s, %s or %s (absent means %[1]s), not %[4]q",
			protocol.CredentialAPIKey, protocol.CredentialOAuth2, protocol.CredentialUnauthorized, d.CredentialType)
	}
	return &protocol.RequestData{
		UserID: req.UserID, Type: protocol.TypeTool, Action: protocol.ActionInvokeTool,
		Provider: d.Provider, Tool: d.Tool, ToolParameters: d.ToolParameters,
		Credentials: d.Credentials, CredentialType: d.CredentialType,
	}, nil
}

// invokeAgentStrategy runs an agent-strategy plugin's strategy and streams
// its messages as tool invocations are streamed.
func (s *server) invokeAgentStrategy(c echo.Context) error {
	var req apispec.InvokeRequest[apispec.InvokeAgentStrategyData]
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	d := req.Data
	if err := requireFields(d.AgentStrategyProvider, "data.agent_strategy_provider", d.AgentStrategy, "data.agent_strategy"); err != nil {
		return err
	}
	params := d.AgentStrategyParams
	if params == nil {
		params = map[string]any{}
	}
	sc, err := sessionContext(req.Context)
	if err != nil {
		return err
	}
	return s.dispatch(c, &protocol.RequestData{
		UserID: req.UserID, Type: protocol.TypeAgentStrategy, Action: protocol.ActionInvokeAgentStrategy,
		AgentStrategyRequest: &protocol.AgentStrategyRequest{AgentStrategyProvider: d.AgentStrategyProvider,
			AgentStrategy: d.AgentStrategy, AgentStrategyParams: params},
		SessionContext: sc,
	})
}

// sessionContext is a request's context (Dify's SessionContext, which
// Dify fills for an agent strategy with the tools' credential ids), passed
// on to the plugin's request line: a JSON object, or none.
func sessionContext(raw json.RawMessage) (json.RawMessage, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, plugboard.Errorf(plugboard.EINVALID, "context should be a JSON object: %v", err)
	}
	return raw, nil
}

func (s *server) validateCredentials(c echo.Context) error {
	var req apispec.InvokeRequest[apispec.ValidateCredentialsData]
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if err := requireFields(req.Data.Provider, "data.provider"); err != nil {
		return err
	}
	return s.dispatchOr(c, &protocol.RequestData{
		UserID: req.UserID, Type: protocol.TypeTool, Action: protocol.ActionValidateToolCredentials,
		Provider: req.Data.Provider, Credentials: req.Data.Credentials,
	}, credentialsNotValidated)
}

// credentialsNotValidated answers validate_credentials when the plugin ends
// the session without a chunk: Dify's API reads such an empty stream as
// false (the credentials were not accepted), never as a success.
var credentialsNotValidated = []byte(`{"result":false}`)

func (s *server) runtimeParameters(c echo.Context) error {
	var req apispec.InvokeRequest[apispec.RuntimeParametersData]
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	d := req.Data
	if err := requireFields(d.Provider, "data.provider", d.Tool, "data.tool"); err != nil {
		return err
	}
	return s.dispatchOr(c, &protocol.RequestData{
		UserID: req.UserID, Type: protocol.TypeTool, Action: protocol.ActionGetToolRuntimeParameters,
		Provider: d.Provider, Tool: d.Tool, Credentials: d.Credentials,
	}, noRuntimeParameters)
}

// noRuntimeParameters answers get_runtime_parameters when the plugin ends
// the session without a chunk (Dify's SDK 0.10 has no route for the action
// and sends only end); Dify reads such an empty stream as no parameters.
var noRuntimeParameters = []byte(`{"parameters":[]}`)

// dispatch opens a session and streams its output as SSE. Errors before the
// stream starts get a real status; a client that goes away closes the
// session, which cancels it in the plugin.
func (s *server) dispatch(c echo.Context, rd *protocol.RequestData) error {
	return s.dispatchOr(c, rd, nil)
}

// dispatchOr is dispatch, sending the chunk ifEmpty when the plugin ends
// the session without one.
func (s *server) dispatchOr(c echo.Context, rd *protocol.RequestData, ifEmpty []byte) error {
	return s.dispatchWith(c, rd, answer{ifEmpty: ifEmpty})
}

// answer says how a route answers: ifEmpty, when not nil, is the chunk sent
// for a session the plugin ends without one; check, when set, validates each
// chunk and returns the bytes to send (an error ends the stream with it).
type answer struct {
	ifEmpty []byte
	check   func(chunk []byte) ([]byte, error)
}

// dispatchWith opens a session and streams its output as SSE, answered as a says.
func (s *server) dispatchWith(c echo.Context, rd *protocol.RequestData, a answer) error {
	start := time.Now()
	ctx, err := withCallDepth(c)
	if err != nil {
		return err
	}
	ss, err := s.open(ctx, start, c.Param("tenant_id"), c.Request().Header.Get(HeaderPluginID), rd, wantsCallBackEvents(c), a)
	if err != nil {
		return err
	}
	ss.end(s.pump(c, ss))
	return nil
}

// session is one open dispatch: the plugin's stream, read a frame at a
// time as the API sends them (over HTTP as SSE by pump; in process by
// Direct).
type session struct {
	s        *server
	ctx      context.Context
	start    time.Time
	pluginID string
	action   string
	stream   *runtime.Stream
	a        answer
	notes    bool // report the plugin's calls back as frames of their own
	sent     bool // a chunk was sent
	stop     func() bool
	once     sync.Once
}

// open invokes the plugin; the session must end (end) once read.
func (s *server) open(ctx context.Context, start time.Time, tenant, pluginID string, rd *protocol.RequestData, notes bool, a answer) (*session, error) {
	stream, err := s.m.Invoke(ctx, tenant, pluginID, rd)
	if err != nil {
		return nil, inPlugin(err)
	}
	s.active.Add(1)
	return &session{s: s, ctx: ctx, start: start, pluginID: pluginID, action: rd.Action, stream: stream, a: a, notes: notes,
		stop: context.AfterFunc(ctx, stream.Close)}, nil
}

// next returns the session's next frame: a report of a call back (event
// apispec.EventCallBack, when notes) or the plugin's next chunk (event
// ""); io.EOF after the last, or the error that ends the stream.
func (ss *session) next() (event string, data json.RawMessage, err error) {
	var chunk json.RawMessage
	if ss.notes {
		var ev *apispec.CallBackEvent
		if chunk, ev, err = ss.stream.RecvEvent(); ev != nil {
			data, _ := json.Marshal(ev)
			return apispec.EventCallBack, data, nil
		}
	} else {
		chunk, err = ss.stream.Recv()
	}
	if errors.Is(err, io.EOF) && !ss.sent && ss.a.ifEmpty != nil {
		chunk, err = ss.a.ifEmpty, nil
	} else if err == nil && ss.a.check != nil {
		chunk, err = ss.a.check(chunk)
	}
	if err != nil {
		return "", nil, err
	}
	ss.sent = true
	if len(chunk) == 0 {
		chunk = []byte("null")
	}
	return "", chunk, nil
}

// end closes the session (the plugin is cancelled if it still runs) and
// counts how it ended, once: err is what ended it (nil: the plugin did).
func (ss *session) end(err error) {
	ss.once.Do(func() {
		if ss.stop() {
			ss.stream.Close()
		}
		ss.s.active.Add(-1)
		ss.s.cfg.Metrics.Invocation(ss.pluginID, ss.action, outcome(ss.ctx, err), time.Since(ss.start))
	})
}

// errClientGone ends a stream whose client stopped reading.
var errClientGone = errors.New("the client went away")

// outcome classifies how a stream ended (nil: the plugin ended it) for the metrics.
func outcome(ctx context.Context, err error) string {
	var pe *runtime.PluginError
	switch { // the plugin's own answer first: the caller may leave right after it
	case err == nil:
		return metrics.OutcomeOK
	case errors.As(err, &pe):
		return metrics.OutcomePluginError
	case plugboard.ErrorCode(err) == plugboard.ETIMEOUT:
		return metrics.OutcomeTimeout
	case errors.Is(err, errClientGone), ctx.Err() != nil:
		return metrics.OutcomeCancelled
	case plugboard.ErrorCode(err) == plugboard.EUNAVAILABLE:
		return metrics.OutcomeUnavailable
	}
	return metrics.OutcomeError
}

// pump copies the session's frames into SSE frames, flushing only when no
// other message is already waiting, and returns what ended the stream
// (nil: the plugin ended it).
func (s *server) pump(c echo.Context, ss *session) error {
	w := sse.Start(c.Response())
	for {
		event, data, err := ss.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			s.writeStreamError(c, w, err)
			return err
		}
		if err := w.Event("", event, framePrefix, data, frameSuffix); err != nil {
			return errClientGone // end cancels the session
		}
		if ss.stream.Buffered() == 0 {
			if err := w.Flush(); err != nil {
				return errClientGone
			}
		}
	}
}

// writeStreamError ends a started stream with one error frame (code -500).
func (s *server) writeStreamError(c echo.Context, w *sse.Writer, err error) {
	if c.Request().Context().Err() != nil {
		return // the client went away; nobody is left to tell
	}
	msg := streamFailure(err, func(err error) { s.logFailure(c, err) })
	frame, _ := json.Marshal(envelope{Code: apispec.CodeInternal, Message: msg}) // strings only: cannot fail
	if w.Event("", "", frame) == nil {
		_ = w.Flush() // a client that left now has nothing more to miss
	}
}

// requireFields checks pairs of (value, name) for empty values.
func requireFields(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i] == "" {
			return plugboard.Errorf(plugboard.EINVALID, "%s is required", pairs[i+1])
		}
	}
	return nil
}

// withCallDepth returns the request's context carrying the call depth of
// the X-Plugboard-Call-Depth header (Plugboard's; absent: 0, a plugin
// invoked directly), which the app sends when it invokes a tool for a
// plugin's call back, so that the tool's own calls back are bounded.
func withCallDepth(c echo.Context) (context.Context, error) {
	return callDepth(c.Request().Context(), c.Request().Header.Get(innerapi.HeaderCallDepth))
}

// callDepth is ctx carrying the call depth of the header's value h.
func callDepth(ctx context.Context, h string) (context.Context, error) {
	if h == "" {
		return ctx, nil
	}
	n, err := strconv.Atoi(h)
	if err != nil || n < 0 || n > innerapi.MaxCallDepth {
		return nil, plugboard.Errorf(plugboard.EINVALID, "header %s must be a number from 0 to %d, not %q",
			innerapi.HeaderCallDepth, innerapi.MaxCallDepth, h)
	}
	return runtime.WithOrigin(ctx, runtime.Origin{Depth: n}), nil
}

// wantsCallBackEvents reports whether the client asked for a
// plugboard_call_back event after each of the plugin's calls back
// (apispec.HeaderEvents); Dify's API never does.
func wantsCallBackEvents(c echo.Context) bool {
	for _, v := range strings.Split(c.Request().Header.Get(apispec.HeaderEvents), ",") {
		if strings.TrimSpace(v) == apispec.EventsCallBack {
			return true
		}
	}
	return false
}
