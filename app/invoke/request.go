package invoke

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
)

// Redacted replaces the value of a secret parameter in a run's stored
// parameters.
const Redacted = "[redacted]"

// Caller is whom a tool is invoked for.
type Caller struct {
	UserID   int64
	Username string // passed to the plugin as the invoking user
	// BaseURL is the app's address as the plugin can reach it (scheme and
	// host): uploaded files are passed to the tool as download URLs under it.
	BaseURL string
}

// Request is one invocation of a tool.
type Request struct {
	Caller
	PluginID, Provider, Tool string
	// Params are the parameter values as the plugin takes them (JSON
	// types: string, float64, bool, []any, map[string]any); they are
	// checked against the tool's declaration. Secret parameters are given
	// in plain text: the run records them redacted.
	Params map[string]any
	// CredentialID names the provider's stored credential to call with; 0
	// uses the provider's default credential, if one is set, unless
	// NoCredential says to call without one.
	CredentialID int64
	NoCredential bool
	// Files are the uploaded files of file parameters (RunFile.Param names
	// the parameter), stored with the run.
	Files []*store.RunFile
	// CallDepth is, for a tool a plugin invokes through a call back
	// (invoke/tool), the depth of that call back; the daemon is told it,
	// so the tool's own calls back run one deeper. 0: a user's run.
	CallDepth int
	// RecordLater lets Call return before its run's record is written:
	// a run recorded only at its end (see liveRun) is then committed
	// within milliseconds, with other runs' (store.SaveRunLater). The
	// gateway's outside agents get their answers without waiting for the
	// history's write; a crash in those milliseconds loses the record, as
	// it loses the calls' audit entries the gateway writes in batches.
	RecordLater bool
	// Resolved, when set, is the tool as the caller has already found it
	// (FindTool, or ResolveTool over a declaration from the daemon's tool
	// list): the daemon is not asked for it again. It must be the tool
	// PluginID, Provider and Tool name.
	Resolved *Tool
}

// Problems is the error of a request that does not fit the tool: a
// message per parameter, by name, and one about the credential. Its code
// is plugboard.EINVALID.
type Problems struct {
	Params     map[string]string
	Credential string
}

func (p *Problems) Error() string {
	var msgs []string
	for _, name := range slices.Sorted(maps.Keys(p.Params)) {
		msgs = append(msgs, p.Params[name])
	}
	if p.Credential != "" {
		msgs = append(msgs, p.Credential)
	}
	return strings.Join(msgs, " ")
}

// Unwrap gives the problems as an plugboard.EINVALID error.
func (p *Problems) Unwrap() error {
	return &plugboard.Error{Code: plugboard.EINVALID, Message: p.Error()}
}

// Tool is a tool as the service invokes it: its declaration and its
// provider's stored credentials.
type Tool struct {
	PluginID, Provider, Name string
	Declaration              plugboard.Tool
	// ProviderDeclaration is the provider's declaration (its credential
	// schema, its tools); nil when the daemon has none.
	ProviderDeclaration *plugboard.ToolProvider
	// Credentials are the provider's stored credentials (secrets masked),
	// the default one first.
	Credentials []*store.Credential
}

// FindTool loads a tool's declaration from the daemon and its provider's
// stored credentials; an unknown plugin, provider or tool is plugboard.ENOTFOUND.
func (s *Service) FindTool(ctx context.Context, pluginID, provider, tool string) (*Tool, error) {
	entry, err := s.daemon.Tool(ctx, pluginID, provider)
	if err != nil {
		if plugboard.ErrorCode(err) == plugboard.ENOTFOUND {
			return nil, plugboard.Errorf(plugboard.ENOTFOUND, "No installed plugin %s has a tool provider %q.", pluginID, provider)
		}
		return nil, err
	}
	t := &Tool{PluginID: entry.PluginID, Provider: entry.Provider, Name: tool, ProviderDeclaration: entry.Declaration}
	found := false
	if d := entry.Declaration; d != nil {
		for _, decl := range d.Tools {
			if decl.Identity.Name == tool {
				t.Declaration, found = decl, true
			}
		}
	}
	if !found {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "%s/%s has no tool %q.", pluginID, provider, tool)
	}
	if t.Credentials, err = s.credentials().FindCredentials(ctx, store.CredentialFilter{PluginID: t.PluginID, Provider: t.Provider}); err != nil {
		return nil, err
	}
	return t, nil
}

// ResolveTool is FindTool for a caller that already holds the tool's
// declaration (read from the daemon's tool list): only the provider's
// stored credentials are read.
func (s *Service) ResolveTool(ctx context.Context, pluginID, provider string, decl plugboard.Tool) (*Tool, error) {
	t := &Tool{PluginID: pluginID, Provider: provider, Name: decl.Identity.Name, Declaration: decl}
	var err error
	if t.Credentials, err = s.credentials().FindCredentials(ctx, store.CredentialFilter{PluginID: pluginID, Provider: provider}); err != nil {
		return nil, err
	}
	return t, nil
}

func (s *Service) credentials() *store.Credentials { return s.store.Credentials(s.cfg.Keys) }

// prepare checks the request against the tool, opens its credential and
// records the run — unless later says it may be recorded later (Call's,
// see liveRun) and it has no files, whose download tokens the plugin
// needs recorded: then the run is only made (store.NewRun).
func (s *Service) prepare(ctx context.Context, req Request, later bool) (*prepared, error) {
	t, err := req.Resolved, error(nil)
	if t == nil || t.PluginID != req.PluginID || t.Provider != req.Provider || t.Name != req.Tool {
		if t, err = s.FindTool(ctx, req.PluginID, req.Provider, req.Tool); err != nil {
			return nil, err
		}
	}
	pr := &Problems{Params: CheckParams(t.Declaration.Parameters, req.Params, req.Files)}
	credID, msg := pickCredential(t, req)
	pr.Credential = msg
	if len(pr.Params) > 0 || pr.Credential != "" {
		return nil, pr
	}
	params, stored, secrets := splitSecrets(t.Declaration.Parameters, req.Params, len(req.Files) > 0)
	var creds map[string]any
	if credID != 0 {
		var credSecrets []string
		if creds, credSecrets, err = s.credentials().OpenCredential(ctx, credID); err != nil {
			return nil, &Problems{Credential: "This credential cannot be decrypted; edit it and type its secret again."}
		}
		secrets = append(secrets, credSecrets...)
	}
	r := &store.Run{UserID: req.UserID, Username: req.Username, PluginID: t.PluginID, Provider: t.Provider, Tool: t.Name,
		CredentialID: credID, Params: stored}
	// History keeps the files' names; the plugin gets download URLs, whose
	// tokens are made as the run and its files are stored.
	putFileValues(r.Params, t.Declaration.Parameters, req.Files, storedFile)
	recorded := !later || len(req.Files) > 0
	if !recorded {
		s.store.NewRun(r)
	} else if err := s.store.CreateRun(ctx, r, req.Files...); err != nil {
		return nil, err
	}
	putFileValues(params, t.Declaration.Parameters, req.Files, func(f *store.RunFile) map[string]any { return FileValue(f, req.BaseURL) })
	data := apispec.InvokeToolData{Provider: t.Provider, Tool: t.Name, ToolParameters: params, Credentials: creds}
	if creds != nil {
		data.CredentialType = "api-key"
	}
	return &prepared{run: r, recorded: recorded, later: req.RecordLater, data: data, red: secret.NewRedactor(secrets...), depth: req.CallDepth}, nil
}

// pickCredential is the id of the credential the request calls with (0:
// none), or a message saying why it cannot be used.
func pickCredential(t *Tool, req Request) (int64, string) {
	switch {
	case req.NoCredential:
		return 0, ""
	case req.CredentialID == 0:
		for _, c := range t.Credentials {
			if c.IsDefault {
				return c.ID, ""
			}
		}
		return 0, ""
	}
	for _, c := range t.Credentials {
		if c.ID == req.CredentialID {
			return c.ID, ""
		}
	}
	return 0, fmt.Sprintf("%s has no credential %q.", t.Provider, strconv.FormatInt(req.CredentialID, 10))
}

// splitSecrets copies the parameters to send and to store, the values of
// secret ones redacted in the stored copy and returned as secrets. Without
// secrets or files (whose values differ between the two) both are one
// copy: neither is changed afterwards.
func splitSecrets(decl []plugboard.Parameter, values map[string]any, files bool) (params, stored map[string]any, secrets []string) {
	params = maps.Clone(values)
	if params == nil {
		params = map[string]any{}
	}
	stored, shared := params, true
	if files {
		stored, shared = maps.Clone(params), false
	}
	for _, p := range decl {
		if v, ok := values[p.Name]; ok && p.Type == plugboard.ParamSecret {
			if shared {
				stored, shared = maps.Clone(params), false
			}
			stored[p.Name] = Redacted
			secrets = append(secrets, fmt.Sprint(v))
		}
	}
	return params, stored, secrets
}
