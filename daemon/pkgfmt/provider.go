package pkgfmt

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/plugboard/plugboard"
)

var providerNameRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// credentialTypes are the field types a provider's credential form may use.
var credentialTypes = []string{
	plugboard.CredentialSecret, plugboard.CredentialText, plugboard.CredentialSelect, plugboard.CredentialBoolean,
	"model-selector", "app-selector", "array[tools]", "any",
}

// parseProvider decodes and validates a provider yaml and the tool yaml
// files it names.
func parseProvider(file string, files fileSet, w *findings) (*plugboard.ToolProvider, error) {
	data, _ := files.get(file)
	p := new(plugboard.ToolProvider)
	d, err := parseDoc(file, data, p, w)
	if err != nil {
		return nil, err
	}
	if err := checkProviderIdentity(d, &p.Identity, files); err != nil {
		return nil, err
	}
	if p.Credentials, err = parseCredentials(d); err != nil {
		return nil, err
	}
	if p.OAuthSchema, err = parseOAuthSchema(d, "oauth_schema"); err != nil {
		return nil, err
	}
	if err := parseProviderTools(d, p, files); err != nil {
		return nil, err
	}
	return p, nil
}

// checkProviderIdentity checks a provider's identity block; its
// description is optional (Dify fills it from the manifest).
func checkProviderIdentity(d *doc, id *plugboard.ProviderIdentity, files fileSet) error {
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
	if id.Icon == "" {
		return d.errorf("identity.icon", "required")
	}
	return requireAsset(d, "identity.icon", id.Icon, files)
}

// checkDescribedIdentity checks a provider's identity that must also carry
// its own description (a datasource's; a tool or trigger provider without
// one takes the manifest's, an agent strategy provider goes without).
func checkDescribedIdentity(d *doc, id *plugboard.ProviderIdentity, files fileSet) error {
	if err := checkProviderIdentity(d, id, files); err != nil {
		return err
	}
	return requireI18n(d, "identity.description", id.Description)
}

// parseCredentials reads credentials_for_provider (or credentials_schema),
// written either as a map keyed by field name or as a list of fields.
func parseCredentials(d *doc) ([]plugboard.CredentialField, error) {
	field := "credentials_for_provider"
	if isNull(d.node(field)) {
		field = "credentials_schema"
	}
	return parseFields(d, field)
}

// parseFields reads the form fields at field (credentials, settings …),
// written either as a map keyed by field name or as a list of fields; a
// missing field is an empty form.
func parseFields(d *doc, field string) ([]plugboard.CredentialField, error) {
	n := d.node(field)
	out := []plugboard.CredentialField{}
	switch n := n.(type) {
	case nil, *ast.NullNode:
		return out, nil
	case *ast.MappingNode:
		for _, kv := range n.Values {
			cf, err := decodeField(d, field, kv)
			if err != nil {
				return nil, err
			}
			out = append(out, cf)
		}
	case *ast.MappingValueNode:
		cf, err := decodeField(d, field, n)
		if err != nil {
			return nil, err
		}
		out = append(out, cf)
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

// decodeField decodes one field of a form written as a map keyed by name.
func decodeField(d *doc, field string, kv *ast.MappingValueNode) (plugboard.CredentialField, error) {
	name := tokenValue(kv.Key)
	cf, err := decodeCredential(d, field+"."+name, kv.Value)
	if cf.Name == "" {
		cf.Name = name
	}
	return cf, err
}

// decodeCredential decodes and validates one credential field at path.
func decodeCredential(d *doc, path string, n ast.Node) (plugboard.CredentialField, error) {
	var cf plugboard.CredentialField
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
	default:
		return cf, d.errorf(path, "must be a mapping")
	}
	if err := yaml.NodeToValue(n, &cf); err != nil {
		return cf, d.decodeError(err, &cf, path)
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
	if cf.Type == plugboard.CredentialSelect {
		checkOptions(d, path, cf.Options, cf.Default)
	}
	return cf, nil
}

// checkCredentialNames checks that every field has a name, and warns about
// a name used twice (Dify keeps both; the second is shadowed in forms).
func checkCredentialNames(d *doc, field string, fields []plugboard.CredentialField) error {
	seen := map[string]bool{}
	for i, cf := range fields {
		if cf.Name == "" {
			return d.errorf(fmt.Sprintf("%s[%d].name", field, i), "required")
		}
		if seen[cf.Name] {
			d.warnf(fmt.Sprintf("%s[%d].name", field, i), "the field %q is declared twice; the second is shadowed", cf.Name)
		}
		seen[cf.Name] = true
	}
	return nil
}

// checkOptions warns about a select whose options are missing or empty, or
// whose default is not one of them: Dify accepts these, but a form built
// from them cannot offer the value.
func checkOptions(d *doc, path string, opts []plugboard.Option, def any) {
	if len(opts) == 0 {
		d.warnf(path+".options", "a select without options: nothing can be chosen")
		return
	}
	values := make([]string, len(opts))
	for i, o := range opts {
		if o.Value == "" {
			d.warnf(fmt.Sprintf("%s.options[%d].value", path, i), "the option has an empty value")
		}
		values[i] = o.Value
	}
	if def == nil || def == "" {
		return
	}
	if s := fmt.Sprint(def); !slices.Contains(values, s) {
		d.warnf(path+".default", "default %q is not one of the options %q", s, values)
	}
}

// parseOAuthSchema reads an oauth_schema (client_schema and
// credentials_schema, each a form); nil when there is none.
func parseOAuthSchema(d *doc, field string) (*plugboard.OAuthSchema, error) {
	n := d.node(field)
	if isNull(n) {
		return nil, nil
	}
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
	default:
		return nil, d.errorf(field, "must be a mapping with client_schema and credentials_schema")
	}
	client, err := parseFields(d, field+".client_schema")
	if err != nil {
		return nil, err
	}
	creds, err := parseFields(d, field+".credentials_schema")
	if err != nil {
		return nil, err
	}
	return &plugboard.OAuthSchema{ClientSchema: client, CredentialsSchema: creds}, nil
}

// parseProviderTools reads the provider's tools: list of tool yaml paths.
func parseProviderTools(d *doc, p *plugboard.ToolProvider, files fileSet) error {
	paths, err := declFiles(d, "tools", "tool", files)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return d.errorf("tools", "a tool provider needs a list of tool yaml files")
	}
	p.Tools = make([]plugboard.Tool, 0, len(paths))
	names := map[string]bool{}
	for i, path := range paths {
		data, _ := files.get(path)
		t, err := parseTool(path, data, d.warn)
		if err != nil {
			return err
		}
		if names[t.Identity.Name] {
			return d.errorf(fmt.Sprintf("tools[%d]", i), "duplicate tool name %q", t.Identity.Name)
		}
		names[t.Identity.Name] = true
		p.ToolFiles = append(p.ToolFiles, path)
		p.Tools = append(p.Tools, *t)
	}
	return nil
}

// declFiles reads field, a list of paths of the package's yaml files (of
// what kind: "tool", "strategy" …); a missing field is an empty list.
func declFiles(d *doc, field, kind string, files fileSet) ([]string, error) {
	n := d.node(field)
	if isNull(n) {
		return nil, nil
	}
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		return nil, d.errorf(field, "must be a list of %s yaml files", kind)
	}
	paths := make([]string, 0, len(seq.Values))
	for i, v := range seq.Values {
		item := fmt.Sprintf("%s[%d]", field, i)
		s, ok := v.(*ast.StringNode)
		if !ok {
			return nil, d.errorf(item, "must be the path of a %s yaml file", kind)
		}
		if _, ok := files.get(s.Value); !ok {
			return nil, d.errorf(item, "%s file %q is not in the package", kind, s.Value)
		}
		paths = append(paths, s.Value)
	}
	return paths, nil
}

// isNull reports whether a node is missing or null.
func isNull(n ast.Node) bool {
	if n == nil {
		return true
	}
	_, ok := n.(*ast.NullNode)
	return ok
}
