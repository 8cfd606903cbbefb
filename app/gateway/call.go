package gateway

import (
	"context"
	"strconv"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
)

// Call is one tool call through the gateway.
type Call struct {
	Key  *store.APIKey
	Tool string // the tool's gateway name
	Args map[string]any
	// Via says which surface called ("mcp", "rest"), for the audit log.
	Via string
	// Address is the caller's address, for the audit log.
	Address string
	// BaseURL is the app's address as plugins reach it.
	BaseURL string
}

// Result is how a call ended: the run as recorded (its status, error) and
// the tool's messages, redacted.
type Result struct {
	Tool     *Tool
	Run      *store.Run
	Messages []*client.Message
}

// Failed reports whether the tool failed; Result.Run.Error says why.
func (r *Result) Failed() bool { return r.Run.Status != store.RunDone }

// Call checks the call against the key's scope and the tool's arguments,
// then invokes the tool through app/invoke with the key's credential for
// its provider, handing each message to onMessage (nil: none) as it
// arrives. A call outside the scope is plugboard.EFORBIDDEN, wrong
// arguments plugboard.EINVALID naming the argument (the plugin is not
// called); both are audited as refused. A ctx cancelled cancels the
// invocation in the plugin.
func (s *Service) Call(ctx context.Context, c Call, onMessage func(*client.Message)) (*Result, error) {
	start := time.Now()
	res, err := s.call(ctx, c, onMessage)
	s.audit(c, res, err, time.Since(start))
	return res, err
}

func (s *Service) call(ctx context.Context, c Call, onMessage func(*client.Message)) (*Result, error) {
	t, err := s.find(ctx, c.Key, c.Tool)
	if err != nil {
		return nil, err
	}
	scope := c.Key.Scope.Find(t.PluginID, t.Provider)
	params, err := arguments(t.Declaration, c.Args, scope.Fixed[t.Tool])
	if err != nil {
		return nil, err
	}
	// The declaration is the catalog's, as the daemon listed it: only the
	// credentials are read for the call.
	resolved, err := s.cfg.Invoke.ResolveTool(ctx, t.PluginID, t.Provider, t.Declaration)
	if err != nil {
		return nil, err
	}
	req := invoke.Request{
		Caller:   invoke.Caller{Username: "key:" + c.Key.Name, BaseURL: c.BaseURL},
		PluginID: t.PluginID, Provider: t.Provider, Tool: t.Tool, Params: params, CredentialID: scope.CredentialID,
		Resolved: resolved, RecordLater: true,
	}
	res := &Result{Tool: t}
	res.Run, err = s.cfg.Invoke.Call(ctx, req, func(m *client.Message) {
		res.Messages = append(res.Messages, m)
		if onMessage != nil {
			onMessage(m)
		}
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// audit records the call: refused (scope, arguments), failed or done,
// with its duration.
func (s *Service) audit(c Call, res *Result, err error, took time.Duration) {
	e := &store.AuditEntry{At: s.cfg.Now(), Actor: "key:" + c.Key.Name, Action: store.AuditGatewayCall, Target: c.Tool,
		Address: c.Address, Outcome: store.OutcomeSuccess}
	// "via mcp, 1.2 ms": written without fmt, on every call's path.
	detail := strconv.AppendFloat([]byte("via "+c.Via+", "), float64(took.Microseconds())/1000, 'f', 1, 64)
	detail = append(detail, " ms"...)
	switch {
	case err != nil && plugboard.ErrorCode(err) != plugboard.EINTERNAL && plugboard.ErrorCode(err) != plugboard.EUNAVAILABLE:
		e.Outcome, e.Detail = store.OutcomeRefused, string(detail)+": "+plugboard.ErrorMessage(err)
	case err != nil:
		e.Outcome, e.Detail = store.OutcomeFailure, string(detail)+": "+plugboard.ErrorMessage(err)
	default:
		e.Target = res.Tool.PluginID + "/" + res.Tool.Provider + "/" + res.Tool.Tool
		e.Detail = string(detail) + ", run " + res.Run.ID + ": " + res.Run.Status
		if res.Failed() {
			e.Outcome = store.OutcomeFailure
			e.Detail += ": " + res.Run.Error
		}
	}
	s.usage.audit(e)
}
