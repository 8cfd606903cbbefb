package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
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
		id := c.Request().Header.Get(HeaderPluginID)
		if id == "" {
			return plugboard.Errorf(plugboard.EINVALID, "header %s (author/name of the plugin) is required", HeaderPluginID)
		}
		if !plugboard.ValidPluginID(id) {
			return plugboard.Errorf(plugboard.EINVALID, "header %s must be author/name, not %q", HeaderPluginID, id)
		}
		return next(c)
	}
}

func (s *server) invokeTool(c echo.Context) error {
	var req apispec.InvokeRequest[apispec.InvokeToolData]
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	d := req.Data
	if err := requireFields(d.Provider, "data.provider", d.Tool, "data.tool"); err != nil {
		return err
	}
	if d.CredentialType != "" && !protocol.ValidCredentialType(d.CredentialType) {
		return plugboard.Errorf(plugboard.EINVALID, "data.credential_type must be %s, %s or %s (absent means %[1]s), not %[4]q",
			protocol.CredentialAPIKey, protocol.CredentialOAuth2, protocol.CredentialUnauthorized, d.CredentialType)
	}
	return s.dispatch(c, &protocol.RequestData{
		UserID: req.UserID, Type: protocol.TypeTool, Action: protocol.ActionInvokeTool,
		Provider: d.Provider, Tool: d.Tool, ToolParameters: d.ToolParameters,
		Credentials: d.Credentials, CredentialType: d.CredentialType,
	})
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
	pluginID := c.Request().Header.Get(HeaderPluginID)
	stream, err := s.m.Invoke(ctx, c.Param("tenant_id"), pluginID, rd)
	if err != nil {
		return inPlugin(err)
	}
	s.active.Add(1)
	defer s.active.Add(-1)
	stop := context.AfterFunc(ctx, stream.Close)
	defer func() {
		if stop() {
			stream.Close()
		}
	}()
	err = s.pump(c, stream, a)
	s.cfg.Metrics.Invocation(pluginID, rd.Action, outcome(ctx, err), time.Since(start))
	return nil
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

// pump copies the stream's messages into SSE frames, flushing only when no
// further message is already waiting; a stream that ends without a message
// gets a.ifEmpty, when given, and each message passes a.check, when set. It
// returns how the stream ended: nil at the plugin's end, else the error
// (errClientGone when the client stopped reading).
func (s *server) pump(c echo.Context, stream *runtime.Stream, a answer) error {
	w := sse.Start(c.Response())
	notes := wantsCallBackEvents(c)
	for sent := false; ; sent = true {
		chunk, err := s.next(w, stream, notes)
		if errors.Is(err, io.EOF) && !sent && a.ifEmpty != nil {
			chunk, err = a.ifEmpty, nil
		} else if err == nil && a.check != nil {
			chunk, err = a.check(chunk)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			s.writeStreamError(c, w, err)
			return err
		}
		if len(chunk) == 0 {
			chunk = []byte("null")
		}
		if err := w.Event("", "", framePrefix, chunk, frameSuffix); err != nil {
			return errClientGone // the deferred Close cancels the session
		}
		if stream.Buffered() == 0 {
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
	var pe *runtime.PluginError
	if !errors.As(err, &pe) && plugboard.ErrorCode(err) == plugboard.EINTERNAL {
		s.logFailure(c, err)
	}
	f := describe(err)
	frame, _ := json.Marshal(envelope{Code: apispec.CodeInternal, Message: f.encode()}) // strings only: cannot fail
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
	ctx := c.Request().Context()
	h := c.Request().Header.Get(innerapi.HeaderCallDepth)
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

// next returns the stream's next message; when notes is set, the reports
// of calls back before it are written as plugboard_call_back events first.
func (s *server) next(w *sse.Writer, stream *runtime.Stream, notes bool) (json.RawMessage, error) {
	if !notes {
		return stream.Recv()
	}
	for {
		msg, ev, err := stream.RecvEvent()
		if ev == nil {
			return msg, err
		}
		data, _ := json.Marshal(ev)
		if w.Event("", apispec.EventCallBack, framePrefix, data, frameSuffix) != nil {
			return nil, errClientGone
		}
		if stream.Buffered() == 0 && w.Flush() != nil {
			return nil, errClientGone
		}
	}
}
