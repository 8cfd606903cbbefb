package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard/daemon/apispec"
)

// routeInvokeTool is the tool dispatch's route, as its metrics and logs
// name it.
const routeInvokeTool = "/plugin/:tenant_id/dispatch/tool/invoke"

// Direct is the API's tool dispatch for a client in the daemon's own
// process (apispec.DirectDispatcher, which client.InProcess takes): the
// route's checks, the session and its frames, its metrics and its logs
// are the HTTP route's (the same code); there is no request to read, no
// key to check (the caller holds the daemon itself) and no SSE to write.
type Direct struct{ s *server }

// NewWithDirect is New, with the Direct dispatch of the same server.
func NewWithDirect(cfg Config, m Manager) (*echo.Echo, Direct) {
	e, s := newServer(cfg, m)
	return e, Direct{s}
}

// InvokeTool is the tool dispatch route's work.
func (d Direct) InvokeTool(ctx context.Context, call apispec.DirectCall, req apispec.InvokeRequest[apispec.InvokeToolData]) (apispec.Frames, error) {
	ss, err := d.open(ctx, time.Now(), call, req)
	if err != nil {
		f := d.s.refusal(routeInvokeTool, err, d.s.logDirectFailure)
		return nil, &apispec.DirectError{Status: f.Status, Envelope: apispec.Envelope{Code: f.Code, Message: f.encode()}}
	}
	return &directFrames{ss: ss}, nil
}

func (d Direct) open(ctx context.Context, start time.Time, call apispec.DirectCall, req apispec.InvokeRequest[apispec.InvokeToolData]) (*session, error) {
	if err := checkTenant(call.Tenant); err != nil {
		return nil, err
	}
	if err := checkPluginID(call.PluginID); err != nil {
		return nil, err
	}
	rd, err := toolRequest(req)
	if err != nil {
		return nil, err
	}
	if ctx, err = callDepth(ctx, call.CallDepth); err != nil {
		return nil, err
	}
	return d.s.open(ctx, start, call.Tenant, call.PluginID, rd, call.CallBackEvents, answer{})
}

// directFrames reads a session's frames for an in-process client.
type directFrames struct {
	ss     *session
	closed atomic.Bool
}

// errClosedFrames is a read after Close (over HTTP: a read of a closed body).
var errClosedFrames = errors.New("read of a closed in-process dispatch")

func (f *directFrames) Next() (string, json.RawMessage, error) {
	if f.closed.Load() {
		return "", nil, errClosedFrames
	}
	event, data, err := f.ss.next()
	switch {
	case err == nil:
		return event, data, nil
	case errors.Is(err, io.EOF):
		f.ss.end(nil)
		return "", nil, io.EOF
	}
	f.ss.end(err)
	if f.closed.Load() {
		return "", nil, errClosedFrames // Close ended it: nothing to tell or log
	}
	if f.ss.ctx.Err() != nil {
		return "", nil, f.ss.ctx.Err() // the caller went away (as writeStreamError: no frame)
	}
	return "", nil, &apispec.DirectError{Status: http.StatusOK,
		Envelope: apispec.Envelope{Code: apispec.CodeInternal, Message: streamFailure(err, f.ss.s.logDirectFailure)}}
}

// Close ends the session as a client's closed connection does.
func (f *directFrames) Close() {
	f.closed.Store(true)
	f.ss.end(errClientGone)
}

// logDirectFailure logs an internal failure of an in-process dispatch, as
// logFailure logs one over HTTP.
func (s *server) logDirectFailure(err error) {
	s.log.Error("request failed", "method", http.MethodPost, "path", routeInvokeTool, "in_process", true, "err", err)
}
