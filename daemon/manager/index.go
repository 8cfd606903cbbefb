package manager

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/state"
)

// indexKey names one installation: a plugin of a tenant.
type indexKey struct{ tenant, pluginID string }

// index maps installations to what the hot path needs. It is never changed in
// place: writers copy it under Manager.mu and swap the pointer.
type index map[indexKey]*installed

// installed is one installation with its declaration, ready for validation.
type installed struct {
	inst     *state.Installation
	uid      string
	id       plugboard.Identifier
	manifest *plugboard.Manifest
	provider string                   // the tool provider's name ("" when none)
	tools    map[string]*toolSpec     // by tool name
	names    []string                 // tool names, sorted, for messages
	assets   map[string][]byte        // a remote plugin's assets (nil for a package)
	model    *plugboard.ModelProvider // the model provider (nil when none)
	// mcp is an MCP server's record (nil for a plugin), mcpStarted when the
	// bridge process whose tools are indexed started.
	mcp        *state.MCPServer
	mcpStarted time.Time
}

// toolSpec is what invoke checks of one tool.
type toolSpec struct {
	required []requiredParam
}

// requiredParam is a parameter a caller must give.
type requiredParam struct {
	name string
	text bool // a string-like type, where "" counts as missing
}

// newInstalled indexes an installation's declaration.
func newInstalled(inst *state.Installation, id plugboard.Identifier, m *plugboard.Manifest) *installed {
	in := &installed{inst: inst, uid: id.String(), id: id, manifest: m, tools: map[string]*toolSpec{}, model: m.Model}
	if m.Tool == nil {
		return in
	}
	in.provider = m.Tool.Identity.Name
	for _, t := range m.Tool.Tools {
		in.tools[t.Identity.Name] = &toolSpec{required: requiredParams(t.Parameters)}
		in.names = append(in.names, t.Identity.Name)
	}
	slices.Sort(in.names)
	return in
}

// requiredParams lists the required parameters without a default, of the
// llm and form forms (schema parameters are filled by the caller's runtime).
func requiredParams(params []plugboard.Parameter) []requiredParam {
	var out []requiredParam
	for _, p := range params {
		if !p.Required || p.Default != nil || p.Form == plugboard.FormSchema {
			continue
		}
		text := p.Type == plugboard.ParamString || p.Type == plugboard.ParamSecret || p.Type == plugboard.ParamSelect || p.Type == ""
		out = append(out, requiredParam{name: p.Name, text: text})
	}
	return out
}

// lookup returns the tenant's installation of pluginID, or nil.
func (m *Manager) lookup(tenant, pluginID string) *installed {
	return (*m.index.Load())[indexKey{tenant, pluginID}]
}

// setInstalled adds or replaces an installation in the index.
func (m *Manager) setInstalled(in *installed) {
	m.mu.Lock()
	defer m.mu.Unlock()
	next := maps.Clone(*m.index.Load())
	next[indexKey{in.inst.TenantID, in.inst.PluginID}] = in
	m.index.Store(&next)
}

// removeInstalled drops an installation from the index.
func (m *Manager) removeInstalled(tenant, pluginID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	next := maps.Clone(*m.index.Load())
	delete(next, indexKey{tenant, pluginID})
	m.index.Store(&next)
}

// tenantInstallations lists the tenant's installations, by plugin id.
func (m *Manager) tenantInstallations(tenant string) []*installed {
	var out []*installed
	for k, in := range *m.index.Load() {
		if k.tenant == tenant {
			out = append(out, in)
		}
	}
	slices.SortFunc(out, func(a, b *installed) int { return strings.Compare(a.inst.PluginID, b.inst.PluginID) })
	return out
}

// findInstallation returns the tenant's installation with the given id, or nil.
func (m *Manager) findInstallation(tenant, id string) *installed {
	for k, in := range *m.index.Load() {
		if k.tenant == tenant && in.inst.ID == id {
			return in
		}
	}
	return nil
}

// usesPackage reports whether any installation of any tenant runs uid.
func (m *Manager) usesPackage(uid string) bool {
	for _, in := range *m.index.Load() {
		if in.uid == uid {
			return true
		}
	}
	return false
}

// page cuts a 1-based page of size out of n items; size <= 0 means all.
func page(n, pageNo, size int) (lo, hi int) {
	if size <= 0 {
		return 0, n
	}
	if pageNo < 1 {
		pageNo = 1
	}
	lo = min((pageNo-1)*size, n)
	return lo, min(lo+size, n)
}
