package pkgfmt

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

var providerNameRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// credentialTypes are the field types a provider's credential form may use.
var credentialTypes = []string{
	CredentialSecret, CredentialText, CredentialSelect, CredentialBoolean,
	"model-selector", "app-selector", "array[tools]", "any",
}

// parseProvider decodes and validates a provider yaml and the tool yaml
// files it names.
func parseProvider(file string, files fileSet) (*ToolProvider, error) {
	data, _ := files.get(file)
	p := new(ToolProvider)
	d, err := parseDoc(file, data, p)
	if err != nil {
		return nil, err
	}
	if err := checkProviderIdentity(d, &p.Identity, files); err != nil {
		return nil, err
	}
	if p.Credentials, err = parseCredentials(d); err != nil {
		return nil, err
	}
	if err := parseProviderTools(d, p, files); err != nil {
		return nil, err
	}
	return p, nil
}

// checkProviderIdentity checks a provider's identity block.
func checkProviderIdentity(d *doc, id *ProviderIdentity, files fileSet) error {
	switch {
	case id.Author == "":
		return d.errorf("identity.author", "required")
	case id.Name == "":
		return d.errorf("identity.name", "required")
	case !providerNameRe.MatchString(id.Name):
		return d.errorf("identity.name", "%q must be letters, digits, _ and - only", id.Name)
	}
	if err := requireI18n(d, "identity.label", id.Label); err != nil {
		return err
	}
	if err := requireI18n(d, "identity.description", id.Description); err != nil {
		return err
	}
	if id.Icon == "" {
		return d.errorf("identity.icon", "required")
	}
	return requireAsset(d, "identity.icon", id.Icon, files)
}

// parseCredentials reads credentials_for_provider (or credentials_schema),
// written either as a map keyed by field name or as a list of fields.
func parseCredentials(d *doc) ([]CredentialField, error) {
	field := "credentials_for_provider"
	n := d.node(field)
	if isNull(n) {
		field = "credentials_schema"
		n = d.node(field)
	}
	if isNull(n) {
		return []CredentialField{}, nil
	}
	var out []CredentialField
	switch n := n.(type) {
	case *ast.MappingNode:
		for _, kv := range n.Values {
			name := kv.Key.GetToken().Value
			cf, err := decodeCredential(d, field+"."+name, kv.Value)
			if err != nil {
				return nil, err
			}
			if cf.Name == "" {
				cf.Name = name
			}
			out = append(out, cf)
		}
	case *ast.SequenceNode:
		for i, v := range n.Values {
			cf, err := decodeCredential(d, fmt.Sprintf("%s[%d]", field, i), v)
			if err != nil {
				return nil, err
			}
			out = append(out, cf)
		}
	default:
		return nil, d.errorf(field, "must be a map of fields keyed by name, or a list of fields")
	}
	return out, checkCredentialNames(d, field, out)
}

// decodeCredential decodes and validates one credential field at path.
func decodeCredential(d *doc, path string, n ast.Node) (CredentialField, error) {
	var cf CredentialField
	if _, ok := n.(*ast.MappingNode); !ok {
		return cf, d.errorf(path, "must be a mapping")
	}
	if err := yaml.NodeToValue(n, &cf); err != nil {
		return cf, yamlError(d.file, err)
	}
	if cf.Type == "" {
		return cf, d.errorf(path+".type", "required")
	}
	if !slices.Contains(credentialTypes, cf.Type) {
		return cf, d.errorf(path+".type", "unknown credential type %q", cf.Type)
	}
	if err := requireI18n(d, path+".label", cf.Label); err != nil {
		return cf, err
	}
	if cf.Type == CredentialSelect {
		return cf, checkOptions(d, path, cf.Options, cf.Default)
	}
	return cf, nil
}

// checkCredentialNames checks that every field has a name used once.
func checkCredentialNames(d *doc, field string, fields []CredentialField) error {
	seen := map[string]bool{}
	for i, cf := range fields {
		if cf.Name == "" {
			return d.errorf(fmt.Sprintf("%s[%d].name", field, i), "required")
		}
		if seen[cf.Name] {
			return d.errorf(fmt.Sprintf("%s[%d].name", field, i), "duplicate credential %q", cf.Name)
		}
		seen[cf.Name] = true
	}
	return nil
}

// checkOptions checks a select's options and that its default is one of them.
func checkOptions(d *doc, path string, opts []Option, def any) error {
	if len(opts) == 0 {
		return d.errorf(path+".options", "a select needs options")
	}
	values := make([]string, len(opts))
	for i, o := range opts {
		if o.Value == "" {
			return d.errorf(fmt.Sprintf("%s.options[%d].value", path, i), "required")
		}
		values[i] = o.Value
	}
	if def == nil || def == "" {
		return nil
	}
	if s := fmt.Sprint(def); !slices.Contains(values, s) {
		return d.errorf(path+".default", "default %q is not one of the options %q", s, values)
	}
	return nil
}

// parseProviderTools reads the provider's tools: list of tool yaml paths.
func parseProviderTools(d *doc, p *ToolProvider, files fileSet) error {
	n, ok := d.node("tools").(*ast.SequenceNode)
	if !ok || len(n.Values) == 0 {
		return d.errorf("tools", "a tool provider needs a list of tool yaml files")
	}
	p.Tools = make([]Tool, 0, len(n.Values))
	names := map[string]bool{}
	for i, v := range n.Values {
		field := fmt.Sprintf("tools[%d]", i)
		s, ok := v.(*ast.StringNode)
		if !ok {
			return d.errorf(field, "must be the path of a tool yaml file")
		}
		data, ok := files.get(s.Value)
		if !ok {
			return d.errorf(field, "tool file %q is not in the package", s.Value)
		}
		t, err := parseTool(s.Value, data)
		if err != nil {
			return err
		}
		if names[t.Identity.Name] {
			return d.errorf(field, "duplicate tool name %q", t.Identity.Name)
		}
		names[t.Identity.Name] = true
		p.ToolFiles = append(p.ToolFiles, s.Value)
		p.Tools = append(p.Tools, *t)
	}
	return nil
}

// isNull reports whether a node is missing or null.
func isNull(n ast.Node) bool {
	if n == nil {
		return true
	}
	_, ok := n.(*ast.NullNode)
	return ok
}
