package install

import (
	"context"
	"strings"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/store"
)

// MCPForm is an admin's stdio MCP server as typed: a name, the executable,
// its arguments one a line, its environment as NAME=value lines.
type MCPForm struct {
	Name, Command, Args, Env string
}

// Request is the form as the daemon takes it.
func (f MCPForm) Request() apispec.MCPServerRequest {
	req := apispec.MCPServerRequest{Name: strings.TrimSpace(f.Name)}
	if cmd := strings.TrimSpace(f.Command); cmd != "" {
		req.Command = []string{cmd}
	}
	for _, a := range lines(f.Args) {
		req.Command = append(req.Command, a)
	}
	req.Env = lines(f.Env)
	return req
}

// lines are s's lines without their ends, blank ones left out.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimRight(l, "\r"); strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// AddMCPServer asks the daemon to start the MCP server and install it as a
// tool provider (plugin id mcp/<name>). Only admins may: it runs a command
// on this host. The audit entry names the executable and the environment's
// names, never its values or the arguments (either may carry a secret).
func (s *Service) AddMCPServer(ctx context.Context, u *store.User, f MCPForm) (*apispec.Installation, error) {
	req := f.Request()
	target := "mcp/" + req.Name
	if u == nil || !u.Role.AtLeast(store.RoleAdmin) {
		who := ""
		if u != nil {
			who = u.Username
		}
		s.audit(ctx, who, store.AuditMCPServerAdd, target, "only admins may add MCP servers", store.OutcomeRefused)
		return nil, plugboard.Errorf(plugboard.EFORBIDDEN, "Only admins may add MCP servers.")
	}
	inst, err := s.daemon.AddMCPServer(ctx, req)
	if err != nil {
		s.audit(ctx, u.Username, store.AuditMCPServerAdd, target, failureMessage(err), store.OutcomeFailure)
		return nil, err
	}
	detail := "command " + req.Command[0]
	if len(req.Env) > 0 {
		names := make([]string, len(req.Env))
		for i, e := range req.Env {
			names[i], _, _ = strings.Cut(e, "=")
		}
		detail += "; environment " + strings.Join(names, ", ")
	}
	s.audit(ctx, u.Username, store.AuditMCPServerAdd, target, detail, store.OutcomeSuccess)
	return inst, nil
}
