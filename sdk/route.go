package sdk

import (
	"context"
	"fmt"

	"github.com/plugboard/plugboard/daemon/protocol"
)

// route calls what the request's action asks for.
func (s *server) route(ctx context.Context, in *inbound, w *Writer) error {
	raw, d := in.Request, in.Data
	if d == nil {
		return Errorf(ErrTypeBadRequest, "request %q has no data", raw.SessionID)
	}
	if in.decodeErr != nil {
		typ := ErrTypeBadRequest
		if d.Type == protocol.TypeModel {
			typ = ErrTypeInvokeBadRequest
		}
		return Errorf(typ, "the %s request does not decode: %v", d.Action, in.decodeErr)
	}
	if d.Type == protocol.TypeModel {
		return s.routeModel(ctx, in, w)
	}
	if d.Type != protocol.TypeTool {
		return Errorf(ErrTypeBadRequest, "request type %q is not supported by this plugin (only %q and %q)", d.Type, protocol.TypeTool, protocol.TypeModel)
	}
	req := newRequest(raw)
	switch d.Action {
	case protocol.ActionInvokeTool:
		return s.invoke(ctx, req, w)
	case protocol.ActionValidateToolCredentials:
		return s.validate(ctx, req, w)
	case protocol.ActionGetToolRuntimeParameters:
		return s.runtimeParameters(ctx, req, w)
	}
	return Errorf(ErrTypeBadRequest, "action %q is not supported by this plugin", d.Action)
}

func newRequest(raw *protocol.Request) *Request {
	d := raw.Data
	return &Request{
		SessionID: raw.SessionID, UserID: d.UserID, Action: d.Action,
		Provider: d.Provider, Tool: d.Tool, Params: d.ToolParameters,
		Credentials: Credentials(d.Credentials), CredentialType: d.CredentialType,
	}
}

func (s *server) invoke(ctx context.Context, req *Request, w *Writer) error {
	h := s.p.tools[toolKey{req.Provider, req.Tool}]
	if h == nil {
		return s.notFound(req)
	}
	return h(ctx, req, w)
}

func (s *server) notFound(req *Request) error {
	if !s.p.providers[req.Provider] {
		return Errorf(ErrTypeNotFound, "provider %q is not served by this plugin", req.Provider)
	}
	return Errorf(ErrTypeNotFound, "tool %q of provider %q is not served by this plugin", req.Tool, req.Provider)
}

func (s *server) validate(ctx context.Context, req *Request, w *Writer) error {
	if !s.p.providers[req.Provider] {
		return s.notFound(req)
	}
	if v := s.p.validators[req.Provider]; v != nil {
		if err := v(ctx, req.Credentials); err != nil {
			return err
		}
	}
	return w.raw(protocol.ValidateResult{Result: true})
}

func (s *server) runtimeParameters(ctx context.Context, req *Request, w *Writer) error {
	if s.p.tools[toolKey{req.Provider, req.Tool}] == nil {
		return s.notFound(req)
	}
	params := []map[string]any{}
	if f := s.p.runtime[toolKey{req.Provider, req.Tool}]; f != nil {
		got, err := f(ctx, req)
		if err != nil {
			return fmt.Errorf("runtime parameters of %s/%s: %w", req.Provider, req.Tool, err)
		}
		if got != nil {
			params = got
		}
	}
	return w.raw(map[string]any{"parameters": params})
}

// errType is the error_type a handler's plain error is sent with.
func errType(in *inbound) string {
	switch {
	case in.Data == nil:
		return ErrTypeInvoke
	case in.Data.Type == protocol.TypeModel:
		return modelErrType(in.Data.Action)
	case in.Data.Action == protocol.ActionValidateToolCredentials:
		return ErrTypeCredentials
	}
	return ErrTypeInvoke
}
