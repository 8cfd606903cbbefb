package gateway

import (
	"context"
	"fmt"
	"slices"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/store"
)

// Catalog is every installed tool, read fresh from the daemon, in
// installation order (for the key form).
func (s *Service) Catalog(ctx context.Context) ([]*Tool, error) {
	if _, err := s.catalog.refresh(ctx); err != nil {
		return nil, err
	}
	return s.catalog.all(), nil
}

// CreateKey checks the key's scope against the installed tools and the
// providers' stored credentials — each provider installed, each tool one
// of its tools, each credential one of the provider's, each fixed value
// one of the tool's form parameters and fitting it — and stores the key;
// it returns the key with its secret, shown once. Errors are
// *store.FieldError.
func (s *Service) CreateKey(ctx context.Context, actor string, in store.APIKeyInput, creds *store.Credentials) (*store.APIKey, string, error) {
	tools, err := s.Catalog(ctx)
	if err != nil {
		return nil, "", err
	}
	for _, p := range in.Scope.Providers {
		if err := checkScope(ctx, tools, p, creds); err != nil {
			return nil, "", err
		}
	}
	return s.cfg.Store.CreateAPIKey(ctx, actor, in)
}

func checkScope(ctx context.Context, tools []*Tool, p store.ScopeProvider, creds *store.Credentials) error {
	var have []*Tool
	for _, t := range tools {
		if t.PluginID == p.PluginID && t.Provider == p.Provider {
			have = append(have, t)
		}
	}
	if len(have) == 0 {
		return &store.FieldError{Field: "scope", Message: fmt.Sprintf("No installed plugin %s has a tool provider %s.", p.PluginID, p.Provider)}
	}
	for _, name := range p.Tools {
		if !slices.ContainsFunc(have, func(t *Tool) bool { return t.Tool == name }) {
			return &store.FieldError{Field: "scope", Message: fmt.Sprintf("%s has no tool %s.", p.Provider, name)}
		}
	}
	if p.CredentialID != 0 {
		list, err := creds.FindCredentials(ctx, store.CredentialFilter{PluginID: p.PluginID, Provider: p.Provider})
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(list, func(c *store.Credential) bool { return c.ID == p.CredentialID }) {
			return &store.FieldError{Field: "scope", Message: fmt.Sprintf("%s has no credential %d.", p.Provider, p.CredentialID)}
		}
	}
	for tool, values := range p.Fixed {
		i := slices.IndexFunc(have, func(t *Tool) bool { return t.Tool == tool })
		if i < 0 {
			return &store.FieldError{Field: "fixed", Message: fmt.Sprintf("%s has no tool %s.", p.Provider, tool)}
		}
		if err := checkFixed(have[i], values); err != nil {
			return err
		}
	}
	return nil
}

// checkFixed checks the fixed values of one tool's form parameters.
func checkFixed(t *Tool, values map[string]any) error {
	for name, v := range values {
		i := slices.IndexFunc(t.Declaration.Parameters, func(p plugboard.Parameter) bool { return p.Name == name })
		if i < 0 || invoke.IsLLMParam(t.Declaration.Parameters[i]) {
			return &store.FieldError{Field: "fixed", Message: fmt.Sprintf("%s has no form parameter %s.", t.Name, name)}
		}
		if msg := invoke.CheckParam(t.Declaration.Parameters[i], v); msg != "" {
			return &store.FieldError{Field: "fixed", Message: t.Name + ": " + msg}
		}
	}
	return nil
}
