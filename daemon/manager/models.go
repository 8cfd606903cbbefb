package manager

import (
	"context"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
)

// Models lists the model providers of the tenant's installed plugins, each
// with its predefined models, by plugin id (Dify's management/models).
func (m *Manager) Models(ctx context.Context, tenant string, pageNo, size int) ([]apispec.ModelProviderEntry, error) {
	var all []*installed
	for _, in := range m.tenantInstallations(tenant) {
		if in.model != nil {
			all = append(all, in)
		}
	}
	lo, hi := page(len(all), pageNo, size)
	out := []apispec.ModelProviderEntry{}
	for _, in := range all[lo:hi] {
		out = append(out, modelEntry(in))
	}
	return out, nil
}

// Model returns the model provider of an installed plugin; provider is
// its bare name ("openai") or, as Dify's API names it, "author/name/openai".
func (m *Manager) Model(ctx context.Context, tenant, pluginID, provider string) (*apispec.ModelProviderEntry, error) {
	in := m.lookup(tenant, pluginID)
	if in == nil {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "plugin %s is not installed", pluginID)
	}
	if in.model == nil || (provider != in.model.Provider && provider != pluginID+"/"+in.model.Provider) {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "plugin %s has no model provider %q", pluginID, provider)
	}
	e := modelEntry(in)
	return &e, nil
}

// modelEntry is in's model provider as the API lists it (Dify's
// AIModelInstallation with its declaration).
func modelEntry(in *installed) apispec.ModelProviderEntry {
	return apispec.ModelProviderEntry{
		ID:                     in.inst.ID,
		CreatedAt:              in.inst.CreatedAt,
		UpdatedAt:              in.inst.UpdatedAt,
		Provider:               in.model.Provider,
		TenantID:               in.inst.TenantID,
		PluginUniqueIdentifier: in.uid,
		PluginID:               in.inst.PluginID,
		Declaration:            in.model,
	}
}
