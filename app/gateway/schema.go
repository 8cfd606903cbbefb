package gateway

import (
	"fmt"
	"maps"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/invoke"
)

// FunctionSchema is a tool as OpenAI's function calling takes it
// ({"type": "function", "function": {name, description, parameters}}).
func FunctionSchema(t *Tool) map[string]any {
	return map[string]any{"type": "function", "function": map[string]any{
		"name": t.Name, "description": t.Description, "parameters": t.InputSchema,
	}}
}

// arguments checks a caller's arguments against the tool and returns the
// parameters to invoke it with: the arguments (files as Dify's file
// objects), the key's fixed values and the declared defaults of the other
// form parameters. A wrong argument is an invalid error naming it.
func arguments(decl plugboard.Tool, args map[string]any, fixed map[string]any) (map[string]any, error) {
	byName := map[string]plugboard.Parameter{}
	for _, p := range decl.Parameters {
		byName[p.Name] = p
	}
	var msgs []string
	for _, name := range slices.Sorted(maps.Keys(args)) {
		p, ok := byName[name]
		switch {
		case !ok:
			msgs = append(msgs, fmt.Sprintf("%s is not an argument of this tool.", name))
		case !invoke.IsLLMParam(p):
			msgs = append(msgs, fmt.Sprintf("%s is set by the key's configuration, not by the caller.", name))
		}
	}
	params := map[string]any{}
	for _, p := range decl.Parameters {
		if !invoke.IsLLMParam(p) {
			if v, ok := fixed[p.Name]; ok {
				params[p.Name] = v
			} else if p.Default != nil {
				params[p.Name] = p.Default
			}
			continue
		}
		v, given := args[p.Name]
		if invoke.IsFileParam(p) {
			fv, msg := fileArgument(p, v)
			if msg != "" {
				msgs = append(msgs, msg)
			} else if fv != nil {
				params[p.Name] = fv
			}
			continue
		}
		if msg := invoke.CheckParam(p, v); msg != "" {
			msgs = append(msgs, msg)
		} else if given {
			params[p.Name] = v
		}
	}
	if len(msgs) > 0 {
		return nil, plugboard.Errorf(plugboard.EINVALID, "%s", strings.Join(msgs, " "))
	}
	return params, nil
}

// fileArgument turns a file argument (a URL, or a list of them for files)
// into the file objects the plugin downloads; nil when not given.
func fileArgument(p plugboard.Parameter, v any) (any, string) {
	if v == nil {
		if p.Required {
			return nil, p.Name + " is required."
		}
		return nil, ""
	}
	if p.Type == plugboard.ParamFile {
		s, _ := v.(string)
		f, ok := fileObject(s)
		if !ok {
			return nil, p.Name + " must be the http or https URL of a file."
		}
		return f, ""
	}
	list, ok := v.([]any)
	var out []any
	for _, item := range list {
		s, _ := item.(string)
		f, fok := fileObject(s)
		ok = ok && fok
		out = append(out, f)
	}
	if !ok || p.Required && len(out) == 0 {
		return nil, p.Name + " must be a list of http or https URLs of files."
	}
	return out, ""
}

// fileObject is Dify's file object for a URL the plugin downloads.
func fileObject(raw string) (map[string]any, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, false
	}
	name := path.Base(u.Path)
	if name == "/" || name == "." {
		name = "file"
	}
	return map[string]any{"dify_model_identity": "__dify__file__", "url": raw, "remote_url": raw, "filename": name,
		"extension": path.Ext(name), "type": "custom", "transfer_method": "remote_url"}, true
}
