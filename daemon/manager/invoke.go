package manager

import (
	"context"
	"slices"
	"strings"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/daemon/runtime"
)

// Invoke checks the request against the installed declaration (plugin,
// provider, tool, required parameters) and opens a session on its runtime,
// for tenant at the call depth ctx carries (runtime.WithOrigin), which the
// plugin's calls back carry on. It does no database or disk I/O.
func (m *Manager) Invoke(ctx context.Context, tenant, pluginID string, req *protocol.RequestData) (*runtime.Stream, error) {
	in := m.lookup(tenant, pluginID)
	if in == nil {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "plugin %s is not installed", pluginID)
	}
	if err := in.check(req); err != nil {
		return nil, err
	}
	ctx = runtime.WithOrigin(ctx, runtime.Origin{Tenant: tenant, Depth: runtime.OriginOf(ctx).Depth})
	s, err := m.rt.Invoke(ctx, in.uid, req)
	if err != nil {
		// An upgrade may have switched versions between the lookup and the
		// invoke, stopping the old one: go to the new one.
		if now := m.lookup(tenant, pluginID); now != nil && now.uid != in.uid {
			return m.rt.Invoke(ctx, now.uid, req)
		}
	}
	return s, err
}

// check validates req against the plugin's tool provider.
func (in *installed) check(req *protocol.RequestData) error {
	pluginID := in.inst.PluginID
	if req == nil {
		return plugboard.Errorf(plugboard.EINVALID, "plugin %s: empty request", pluginID)
	}
	if req.Type == protocol.TypeModel {
		return in.checkModel(req)
	}
	if in.provider == "" {
		return plugboard.Errorf(plugboard.ENOTFOUND, "plugin %s has no tool provider", pluginID)
	}
	if req.Provider != in.provider {
		return plugboard.Errorf(plugboard.ENOTFOUND, "plugin %s has no tool provider %q (it has %q)", pluginID, req.Provider, in.provider)
	}
	if req.Action != protocol.ActionInvokeTool && req.Action != protocol.ActionGetToolRuntimeParameters {
		return nil
	}
	tool := in.tools[req.Tool]
	if tool == nil {
		return plugboard.Errorf(plugboard.ENOTFOUND, "tool provider %s of plugin %s has no tool %q (its tools: %s)",
			in.provider, pluginID, req.Tool, strings.Join(in.names, ", "))
	}
	if req.Action == protocol.ActionInvokeTool {
		return tool.checkParams(req.Tool, req.ToolParameters)
	}
	return nil
}

// checkParams reports the first required parameter that is missing.
func (t *toolSpec) checkParams(tool string, params map[string]any) error {
	for _, p := range t.required {
		v, ok := params[p.name]
		if !ok || v == nil || p.text && v == "" {
			return plugboard.Errorf(plugboard.EINVALID, "missing required parameter %q of tool %s", p.name, tool)
		}
	}
	return nil
}

// checkModel validates a model request against the plugin's model provider:
// its name, and that it supports the request's model type. Models are not
// checked: a customizable model is any a user names.
func (in *installed) checkModel(req *protocol.RequestData) error {
	pluginID, p := in.inst.PluginID, in.model
	if p == nil {
		return plugboard.Errorf(plugboard.ENOTFOUND, "plugin %s has no model provider", pluginID)
	}
	if req.Provider != p.Provider {
		return plugboard.Errorf(plugboard.ENOTFOUND, "plugin %s has no model provider %q (it has %q)", pluginID, req.Provider, p.Provider)
	}
	if req.ModelRequest == nil || req.ModelType == "" || slices.Contains(p.SupportedModelTypes, req.ModelType) {
		return nil
	}
	return plugboard.Errorf(plugboard.ENOTFOUND, "model provider %s of plugin %s does not support %s models (it supports %s)",
		p.Provider, pluginID, req.ModelType, strings.Join(p.SupportedModelTypes, ", "))
}

// callBackManifest is the declaration of the plugin a call back comes from:
// its installation in the session's tenant, else any installation of the
// same package (nil when there is none).
func (m *Manager) callBackManifest(cb *runtime.CallBack) *plugboard.Manifest {
	if in := m.lookup(cb.Tenant, cb.PluginID); in != nil {
		return in.manifest
	}
	for _, in := range *m.index.Load() {
		if in.uid == cb.Key {
			return in.manifest
		}
	}
	return nil
}
