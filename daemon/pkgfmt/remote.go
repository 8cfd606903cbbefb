package pkgfmt

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/plugboard/plugboard"
)

// RemoteDeclarations are the declarations a remote (debugging) plugin sends
// besides its manifest: element 0 of each *_declaration list, as JSON with
// its items inline (nil when it sent none).
type RemoteDeclarations struct {
	Tool, Model, Endpoint, AgentStrategy, Datasource, Trigger json.RawMessage
}

// remoteKind is where a remote declaration goes among the files of a package.
type remoteKind struct {
	message  string   // the registration message it comes in
	plugins  string   // its key under the manifest's plugins
	file     string   // the provider file when the manifest names none
	items    []string // the keys of its inline items (the first present is used); none: kept inline
	itemsDir string   // where each item is laid out as <i>.json
}

// remoteKinds lists the declarations in the order DecodeRemote lays them out.
var remoteKinds = []remoteKind{
	{"tool_declaration", "tools", "provider/remote.yaml", []string{"tools"}, "tools/"},
	// A model provider's models stay inline: the provider file lists them
	// as Dify's decoder accepts (and as a remote plugin sends them).
	{"model_declaration", "models", "provider/remote_model.yaml", nil, ""},
	{"endpoint_declaration", "endpoints", "group/remote.yaml", []string{"endpoints"}, "endpoints/"},
	{"agent_strategy_declaration", "agent_strategies", "provider/remote_agent.yaml", []string{"strategies"}, "strategies/"},
	{"datasource_declaration", "datasources", "provider/remote_datasource.yaml", []string{"datasources"}, "datasources/"},
	{"trigger_declaration", "triggers", "provider/remote_trigger.yaml", []string{"triggers", "events"}, "events/"},
}

// DecodeRemote validates the declarations a remote plugin sends instead of
// a package: the manifest as JSON (Dify's PluginDeclaration), its tool
// provider with its tools inline (nil when it has none), and its assets by
// file name. See DecodeRemoteWith.
func DecodeRemote(manifest, provider json.RawMessage, assets map[string][]byte) (*plugboard.Manifest, error) {
	return DecodeRemoteWith(manifest, RemoteDeclarations{Tool: provider}, assets)
}

// DecodeRemoteWith validates a remote plugin's manifest, declarations and
// assets with the same checks Decode applies to a package — every icon
// named must be among the assets — and returns the manifest with its
// declarations filled in. Errors name the declaration and field that is
// wrong.
func DecodeRemoteWith(manifest json.RawMessage, decls RemoteDeclarations, assets map[string][]byte) (*plugboard.Manifest, error) {
	files, err := remoteFiles(manifest, decls, assets)
	if err != nil {
		return nil, err
	}
	raw, _ := files.get(manifestFile)
	return parseDeclarations(raw, files, nil)
}

// declaration returns the declaration of kind k.
func (d RemoteDeclarations) declaration(k remoteKind) json.RawMessage {
	switch k.plugins {
	case "tools":
		return d.Tool
	case "models":
		return d.Model
	case "endpoints":
		return d.Endpoint
	case "agent_strategies":
		return d.AgentStrategy
	case "datasources":
		return d.Datasource
	}
	return d.Trigger
}

// remoteFiles lays the declarations out as the files of a package would be:
// manifest.yaml naming each provider file (the one it declares, or a
// default), which names its items as <dir>/<i>.json.
// JSON is valid YAML, so the package checks read them unchanged.
func remoteFiles(manifest json.RawMessage, decls RemoteDeclarations, assets map[string][]byte) (fileSet, error) {
	var man map[string]any
	if err := json.Unmarshal(manifest, &man); err != nil || man == nil {
		return nil, &Error{File: "manifest_declaration", Msg: "must be a JSON object"}
	}
	plugins, _ := man["plugins"].(map[string]any)
	if plugins == nil {
		plugins = map[string]any{}
	}
	var files fileSet
	for _, k := range remoteKinds {
		file := providerFile(k, plugins[k.plugins])
		delete(plugins, k.plugins)
		decl := decls.declaration(k)
		if len(decl) == 0 || string(decl) == "null" {
			continue
		}
		pf, err := remoteProvider(k, file, decl)
		if err != nil {
			return nil, err
		}
		files = append(files, pf...)
		plugins[k.plugins] = []string{file}
	}
	man["plugins"] = plugins
	data, err := json.Marshal(man)
	if err != nil {
		return nil, err
	}
	files = append(files, entry{path: manifestFile, mode: 0o644, data: data})
	for name, content := range assets {
		if !fs.ValidPath(name) {
			return nil, &Error{File: "asset_chunk", Msg: fmt.Sprintf("invalid asset file name %q", name)}
		}
		files = append(files, entry{path: assetsDir + name, mode: 0o644, data: content})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	return files, nil
}

// providerFile is the file the manifest declares for kind k, or k's default
// when it declares none usable (or one where the items are laid out).
func providerFile(k remoteKind, declared any) string {
	list, _ := declared.([]any)
	if len(list) == 0 {
		return k.file
	}
	p, ok := list[0].(string)
	if !ok || !fs.ValidPath(p) || p == manifestFile || strings.HasPrefix(p, assetsDir) {
		return k.file
	}
	for _, o := range remoteKinds {
		if o.itemsDir != "" && strings.HasPrefix(p, o.itemsDir) {
			return k.file
		}
	}
	return p
}

// remoteProvider splits a provider declaration with inline items into the
// provider file and one file per item.
func remoteProvider(k remoteKind, file string, decl json.RawMessage) (fileSet, error) {
	var p map[string]any
	if err := json.Unmarshal(decl, &p); err != nil || p == nil {
		return nil, &Error{File: k.message, Msg: "must be a list whose first element is a JSON object"}
	}
	if len(k.items) == 0 {
		return fileSet{{path: file, mode: 0o644, data: decl}}, nil
	}
	key := k.items[0]
	for _, name := range k.items {
		if _, ok := p[name]; ok {
			key = name
			break
		}
	}
	items, _ := p[key].([]any)
	var files fileSet
	paths := make([]string, 0, len(items))
	for i, item := range items {
		data, err := json.Marshal(item)
		if err != nil {
			return nil, err
		}
		path := fmt.Sprintf("%s%d.json", k.itemsDir, i)
		paths = append(paths, path)
		files = append(files, entry{path: path, mode: 0o644, data: data})
	}
	p[key] = paths
	data, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return append(files, entry{path: file, mode: 0o644, data: data}), nil
}
