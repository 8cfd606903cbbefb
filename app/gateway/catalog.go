package gateway

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
)

// Tool is an installed tool as the gateway offers it.
type Tool struct {
	// Name is the tool's MCP name and REST id (provider__tool, see namer).
	Name                     string
	PluginID, Provider, Tool string
	Description              string
	InputSchema              map[string]any
	Declaration              plugboard.Tool
	// version is the installation's unique identifier: an upgrade changes it.
	version string
}

// catalog is the installed tools as last read from the daemon.
type catalog struct {
	daemon *client.Client

	mu    sync.Mutex
	tools []*Tool
	byKey string // what the tools were made from: changes on install, upgrade, uninstall
}

// pageSize is how many tool providers one daemon request lists.
const pageSize = 256

// refresh reads the installed tools; it reports whether they changed
// since the last read.
func (c *catalog) refresh(ctx context.Context) (bool, error) {
	if c.daemon == nil {
		return false, plugboard.Errorf(plugboard.EUNAVAILABLE, "No plugin daemon is configured.")
	}
	var entries []apispec.ToolProviderEntry
	for page := 1; ; page++ {
		list, err := c.daemon.Tools(ctx, page, pageSize)
		if err != nil {
			return false, err
		}
		entries = append(entries, list...)
		if len(list) < pageSize {
			break
		}
	}
	// Installation order: the earlier-installed tool keeps the short name.
	slices.SortStableFunc(entries, func(a, b apispec.ToolProviderEntry) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.PluginID+"/"+a.Provider, b.PluginID+"/"+b.Provider)
	})
	var sig strings.Builder
	for _, e := range entries {
		sig.WriteString(e.PluginUniqueIdentifier + "|" + e.Provider + "\n")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if sig.String() == c.byKey && c.tools != nil {
		return false, nil
	}
	c.tools, c.byKey = c.build(entries), sig.String()
	return true, nil
}

// build makes the tools of the entries, named in order.
func (c *catalog) build(entries []apispec.ToolProviderEntry) []*Tool {
	n := &namer{taken: map[string]bool{}}
	tools := []*Tool{}
	for _, e := range entries {
		if e.Declaration == nil {
			continue
		}
		for _, d := range e.Declaration.Tools {
			tools = append(tools, &Tool{
				Name: n.name(e.PluginID, e.Provider, d.Identity.Name), PluginID: e.PluginID, Provider: e.Provider,
				Tool: d.Identity.Name, Description: invoke.ToolDescription(d), InputSchema: invoke.InputSchema(d, true), Declaration: d,
				version: e.PluginUniqueIdentifier,
			})
		}
	}
	return tools
}

// all is the tools as last read.
func (c *catalog) all() []*Tool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tools
}

// allowed is the tools the key's scope includes.
func allowed(tools []*Tool, k *store.APIKey) []*Tool {
	var out []*Tool
	for _, t := range tools {
		if p := k.Scope.Find(t.PluginID, t.Provider); p != nil && p.Allows(t.Tool) {
			out = append(out, t)
		}
	}
	return out
}
