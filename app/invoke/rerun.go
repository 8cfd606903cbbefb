package invoke

import (
	"context"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
)

// RerunRequest is the request that invokes an earlier run's tool again
// with the run's parameters and credential (none when it had none), for
// by. Runs do not keep secret parameters, so secrets gives their values by
// name; a missing one, or a credential deleted since, is a *Problems
// error. Uploaded files are not part of it: Rerun copies them.
func RerunRequest(t *Tool, old *store.Run, by Caller, secrets map[string]string) (Request, error) {
	req := Request{Caller: by, PluginID: old.PluginID, Provider: old.Provider, Tool: old.Tool, Params: map[string]any{},
		CredentialID: old.CredentialID, NoCredential: old.CredentialID == 0}
	pr := &Problems{Params: map[string]string{}}
	for _, p := range t.Declaration.Parameters {
		v, given := old.Params[p.Name]
		switch {
		case !given || IsFileParam(p):
		case p.Type == plugboard.ParamSecret:
			if secrets[p.Name] == "" {
				pr.Params[p.Name] = p.Name + " is secret, and runs do not keep secrets: type it here, then run again."
				continue
			}
			req.Params[p.Name] = secrets[p.Name]
		default:
			req.Params[p.Name] = v
		}
	}
	if _, msg := pickCredential(t, req); msg != "" {
		pr.Credential = "The run's credential no longer exists; choose another and run."
	}
	if len(pr.Params) > 0 || pr.Credential != "" {
		return req, pr
	}
	return req, nil
}

// Rerun starts an earlier run's tool again, as Start does, from
// RerunRequest and a copy of the run's uploaded files.
func (s *Service) Rerun(ctx context.Context, old *store.Run, by Caller, secrets map[string]string) (*store.Run, error) {
	t, err := s.FindTool(ctx, old.PluginID, old.Provider, old.Tool)
	if err != nil {
		return nil, err
	}
	req, err := RerunRequest(t, old, by, secrets)
	if err != nil {
		return nil, err
	}
	if req.Files, err = s.store.CopyRunFiles(ctx, old.ID); err != nil {
		return nil, err
	}
	return s.Start(ctx, req)
}
