package pkgfmt

import (
	"bytes"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/plugboard/plugboard"
)

// configurateMethods are how a provider's models may come to be.
var configurateMethods = []string{plugboard.ConfiguratePredefined, plugboard.ConfigurateCustomizable}

// parseModelProvider decodes and validates a model provider yaml, its
// position files and the model yamls its globs match, as Dify's decoder
// reads them.
func parseModelProvider(file string, files fileSet, w *findings) (*plugboard.ModelProvider, error) {
	data, _ := files.get(file)
	p := new(plugboard.ModelProvider)
	d, err := parseDoc(file, data, p, w)
	if err != nil {
		return nil, err
	}
	for _, check := range []func(*doc, *plugboard.ModelProvider, fileSet) error{
		checkModelProvider, checkModelIcons, checkModelForms, parseModels,
	} {
		if err := check(d, p, files); err != nil {
			return nil, err
		}
	}
	checkModelSet(d, p)
	return p, nil
}

// checkModelProvider checks the provider's name, label, model types and
// configurate methods.
func checkModelProvider(d *doc, p *plugboard.ModelProvider, _ fileSet) error {
	if p.Provider == "" {
		return d.errorf("provider", "required")
	}
	if !providerNameRe.MatchString(p.Provider) {
		d.warnf("provider", "%q is not only letters, digits, _ and -: it is part of the provider's id in calls", p.Provider)
	}
	if err := requireI18n(d, "label", p.Label); err != nil {
		return err
	}
	if err := checkEnumList(d, "supported_model_types", "model type", p.SupportedModelTypes, plugboard.ModelTypes); err != nil {
		return err
	}
	if err := checkEnumList(d, "configurate_methods", "configurate method", p.ConfigurateMethods, configurateMethods); err != nil {
		return err
	}
	if slices.Contains(p.ConfigurateMethods, plugboard.ConfigurateCustomizable) && p.ModelCredentialSchema == nil {
		d.warnf("configurate_methods", "customizable-model without a model_credential_schema: there is no form to add a model with")
	}
	return nil
}

// checkEnumList checks that a required list is present and holds only
// known values.
func checkEnumList(d *doc, field, what string, values, known []string) error {
	if len(values) == 0 {
		return d.errorf(field, "required (a list of %s)", strings.Join(known, ", "))
	}
	for i, v := range values {
		if !slices.Contains(known, v) {
			return d.errorf(fmt.Sprintf("%s[%d]", field, i), "unknown %s %q (want one of %s)", what, v, strings.Join(known, ", "))
		}
	}
	return nil
}

// checkModelIcons checks that the small and large icons, in every language
// given, are under _assets/ (Dify refuses the package otherwise); a missing
// dark icon is a warning, as Dify does not check those.
func checkModelIcons(d *doc, p *plugboard.ModelProvider, files fileSet) error {
	icons := []struct {
		field string
		names plugboard.I18n
		dark  bool
	}{
		{"icon_small", p.IconSmall, false}, {"icon_large", p.IconLarge, false},
		{"icon_small_dark", p.IconSmallDark, true}, {"icon_large_dark", p.IconLargeDark, true},
	}
	for _, icon := range icons {
		for _, loc := range Locales {
			name, field := icon.names[loc], icon.field+"."+loc
			if _, ok := files.get(assetsDir + name); name == "" || ok {
				continue
			}
			if icon.dark {
				d.warnf(field, "icon %q is not in the package's %s folder", name, assetsDir)
				continue
			}
			return requireAsset(d, field, name, files)
		}
	}
	return nil
}

// checkModelSet warns about what Dify lists but looks wrong in the models
// as a whole: a model of a type the provider does not support, the same
// model twice, and a predefined-only provider without models.
func checkModelSet(d *doc, p *plugboard.ModelProvider) {
	seen := map[string]bool{}
	for i, m := range p.Models {
		field := fmt.Sprintf("models[%d]", i)
		if !slices.Contains(p.SupportedModelTypes, m.ModelType) {
			d.warnf("supported_model_types", "model %q is a %s model, a type the provider does not list", m.Model, m.ModelType)
		}
		key := m.ModelType + "/" + m.Model
		if seen[key] {
			d.warnf(field, "the %s model %q is declared twice; Dify lists both", m.ModelType, m.Model)
		}
		seen[key] = true
	}
	if len(p.Models) == 0 && slices.Equal(p.ConfigurateMethods, []string{plugboard.ConfiguratePredefined}) {
		d.warnf("configurate_methods", "the provider offers predefined models only, but the package declares none")
	}
}

// parseModels reads the models field: a mapping keyed by model type
// (llm, text_embedding …) of predefined globs and position files, or, as
// Dify also accepts, a list of models written inline.
func parseModels(d *doc, p *plugboard.ModelProvider, files fileSet) error {
	switch n := d.node("models").(type) {
	case nil, *ast.NullNode:
		return nil
	case *ast.SequenceNode:
		return parseInlineModels(d, p, n)
	case *ast.MappingNode:
		return parseModelMapping(d, p, n.Values, files)
	case *ast.MappingValueNode:
		return parseModelMapping(d, p, []*ast.MappingValueNode{n}, files)
	}
	d.warnf("models", "must be a mapping of model types (llm, text_embedding …) or a list of models; Dify ignores it")
	return nil
}

// parseInlineModels decodes a list of models written in the provider yaml,
// and the position mapping Dify then reads from the provider yaml too.
func parseInlineModels(d *doc, p *plugboard.ModelProvider, seq *ast.SequenceNode) error {
	for i, n := range seq.Values {
		field := fmt.Sprintf("models[%d]", i)
		m := new(plugboard.ModelDeclaration)
		if _, ok := n.(*ast.MappingNode); !ok {
			return d.errorf(field, "must be a model (a mapping)")
		}
		if err := nodeValue(d, n, m, field); err != nil {
			return err
		}
		if err := checkModel(d, field+".", m); err != nil {
			return err
		}
		p.Models = append(p.Models, *m)
	}
	if n := d.node("position"); !isNull(n) {
		return nodeValue(d, n, &p.Position, "position")
	}
	return nil
}

// parseModelMapping reads the models mapping: each model type's globs and
// position file (keys other than Dify's six are ignored, with a warning),
// then the position files and every file the globs match.
func parseModelMapping(d *doc, p *plugboard.ModelProvider, kvs []*ast.MappingValueNode, files fileSet) error {
	p.ModelFiles = map[string]plugboard.ModelFileSet{}
	p.Position = map[string][]string{}
	var globs []string
	for _, kv := range kvs {
		key := tokenValue(kv.Key)
		field := "models." + key
		if !slices.Contains(plugboard.ModelFileKeys, key) {
			d.warnf(field, "Dify reads only %s under models; %q is ignored", strings.Join(plugboard.ModelFileKeys, ", "), key)
			continue
		}
		set, err := modelFileSet(d, field, kv.Value)
		if err != nil {
			return err
		}
		p.ModelFiles[key] = set
		globs = append(globs, set.Predefined...)
	}
	for _, key := range plugboard.ModelFileKeys {
		if set, ok := p.ModelFiles[key]; ok && set.Position != "" {
			names, err := parsePosition(d, "models."+key+".position", set.Position, files)
			if err != nil {
				return err
			}
			p.Position[key] = names
		}
	}
	return matchModels(d, p, globs, files)
}

// modelFileSet reads one model type's entry: predefined (a list of globs)
// and position (a file). What Dify skips (an entry or a predefined that is
// not of the right kind) is skipped with a warning.
func modelFileSet(d *doc, field string, n ast.Node) (plugboard.ModelFileSet, error) {
	var set plugboard.ModelFileSet
	var kvs []*ast.MappingValueNode
	switch n := n.(type) {
	case *ast.MappingNode:
		kvs = n.Values
	case *ast.MappingValueNode:
		kvs = []*ast.MappingValueNode{n}
	default:
		d.warnf(field, "must be a mapping with predefined and position; Dify ignores it")
		return set, nil
	}
	for _, kv := range kvs {
		switch tokenValue(kv.Key) {
		case "position":
			set.Position = tokenValue(kv.Value)
		case "predefined":
			globs, err := modelGlobs(d, field+".predefined", kv.Value)
			if err != nil {
				return set, err
			}
			set.Predefined = globs
		}
	}
	return set, nil
}

// modelGlobs reads a predefined list of globs, refusing one that is not a
// valid pattern (Dify's walk fails on it).
func modelGlobs(d *doc, field string, n ast.Node) ([]string, error) {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.warnf(field, "must be a list of globs (like models/llm/*.yaml); Dify ignores it")
		return nil, nil
	}
	globs := make([]string, 0, len(seq.Values))
	for i, v := range seq.Values {
		g := tokenValue(v)
		if _, err := path.Match(g, ""); err != nil {
			return nil, d.errorf(fmt.Sprintf("%s[%d]", field, i), "%q is not a valid glob: %v", g, err)
		}
		globs = append(globs, g)
	}
	return globs, nil
}

// parsePosition reads a position file, a yaml list of model names.
func parsePosition(d *doc, field, file string, files fileSet) ([]string, error) {
	data, ok := files.get(file)
	if !ok {
		return nil, d.errorf(field, "position file %q is not in the package", file)
	}
	f, err := parser.ParseBytes(bytes.TrimPrefix(data, utf8BOM), 0)
	if err != nil {
		return nil, yamlError(file, err)
	}
	pd := &doc{file: path.Clean(file), ast: f, warn: d.warn}
	body := pd.body()
	if isNull(body) {
		return nil, nil
	}
	seq, ok := body.(*ast.SequenceNode)
	if !ok {
		return nil, &Error{File: pd.file, Line: lineOf(body), Msg: "must be a yaml list of model names"}
	}
	names := make([]string, 0, len(seq.Values))
	for i, v := range seq.Values {
		switch v.(type) {
		case *ast.MappingNode, *ast.MappingValueNode, *ast.SequenceNode, *ast.NullNode:
			return nil, &Error{File: pd.file, Field: fmt.Sprintf("[%d]", i), Line: lineOf(v), Msg: "must be a model name, not " + describeNode(v)}
		}
		names = append(names, tokenValue(v))
	}
	return names, nil
}

// matchModels decodes every file of the package (but position files) that
// a glob matches, in path order, once per glob that matches it, as Dify's
// walk does; a glob that matches nothing is a warning.
func matchModels(d *doc, p *plugboard.ModelProvider, globs []string, files fileSet) error {
	used := make([]bool, len(globs))
	for _, e := range files {
		if strings.HasSuffix(e.path, "_position.yaml") {
			continue
		}
		matched := 0
		for i, g := range globs {
			if ok, _ := path.Match(g, e.path); !ok {
				continue
			}
			used[i] = true
			matched++
			m, err := parseModel(e.path, files, d.warn)
			if err != nil {
				return err
			}
			p.Models = append(p.Models, *m)
		}
		if matched > 1 {
			d.warn.add(plugboard.Warning{File: e.path, Msg: fmt.Sprintf("%d globs under models match this file; Dify lists its model %d times", matched, matched)})
		}
	}
	for i, g := range globs {
		if !used[i] {
			d.warnf(globField(d, p, g), "the glob %q matches no file of the package", g)
		}
	}
	return nil
}

// globField returns the field of the first glob g under models.
func globField(_ *doc, p *plugboard.ModelProvider, g string) string {
	for _, key := range plugboard.ModelFileKeys {
		if i := slices.Index(p.ModelFiles[key].Predefined, g); i >= 0 {
			return fmt.Sprintf("models.%s.predefined[%d]", key, i)
		}
	}
	return "models"
}
