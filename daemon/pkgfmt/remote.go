package pkgfmt

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// Names DecodeRemote gives the declarations it checks, in its error messages.
const (
	remoteProviderFile = "provider/remote.yaml"
	remoteToolDir      = "tools/"
)

// DecodeRemote validates the declarations a remote (debugging) plugin sends
// instead of a package: the manifest as JSON (Dify's PluginDeclaration),
// its tool provider as JSON with its tools inline (nil when it has none), and
// its assets by file name. It applies the same checks Decode does — every
// icon named must be among the assets — and returns the manifest with Tool
// filled in. Errors name the declaration and field that is wrong.
func DecodeRemote(manifest, provider json.RawMessage, assets map[string][]byte) (*Manifest, error) {
	files, err := remoteFiles(manifest, provider, assets)
	if err != nil {
		return nil, err
	}
	raw, _ := files.get(manifestFile)
	return parseDeclarations(raw, files, nil)
}

// remoteFiles lays the declarations out as the files of a package would be:
// manifest.yaml naming the provider file it declares (provider/remote.yaml
// when it declares none), which names tools/<i>.json.
// JSON is valid YAML, so the package checks read them unchanged.
func remoteFiles(manifest, provider json.RawMessage, assets map[string][]byte) (fileSet, error) {
	var man map[string]any
	if err := json.Unmarshal(manifest, &man); err != nil || man == nil {
		return nil, &Error{File: "manifest_declaration", Msg: "must be a JSON object"}
	}
	var files fileSet
	plugins, _ := man["plugins"].(map[string]any)
	if plugins == nil {
		plugins = map[string]any{}
	}
	providerFile := remoteProviderFile
	if declared, _ := plugins["tools"].([]any); len(declared) > 0 {
		if p, ok := declared[0].(string); ok && fs.ValidPath(p) && !strings.HasPrefix(p, remoteToolDir) {
			providerFile = p
		}
	}
	delete(plugins, "tools")
	if len(provider) > 0 && string(provider) != "null" {
		pf, err := remoteProvider(providerFile, provider)
		if err != nil {
			return nil, err
		}
		files = append(files, pf...)
		plugins["tools"] = []string{providerFile}
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

// remoteProvider splits a provider declaration with inline tools into the
// provider file and one file per tool.
func remoteProvider(file string, provider json.RawMessage) (fileSet, error) {
	var p map[string]any
	if err := json.Unmarshal(provider, &p); err != nil || p == nil {
		return nil, &Error{File: "tool_declaration", Msg: "must be a list whose first element is a JSON object"}
	}
	tools, _ := p["tools"].([]any)
	var files fileSet
	paths := make([]string, 0, len(tools))
	for i, t := range tools {
		data, err := json.Marshal(t)
		if err != nil {
			return nil, err
		}
		path := fmt.Sprintf("%s%d.json", remoteToolDir, i)
		paths = append(paths, path)
		files = append(files, entry{path: path, mode: 0o644, data: data})
	}
	p["tools"] = paths
	data, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return append(files, entry{path: file, mode: 0o644, data: data}), nil
}
