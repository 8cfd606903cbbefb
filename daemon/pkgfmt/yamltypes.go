package pkgfmt

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"github.com/plugboard/plugboard"
)

// Locales are the languages Dify's i18n texts carry; other keys of an i18n
// text are dropped, as Dify's daemon and SDK drop them.
var Locales = []string{"en_US", "zh_Hans", "ja_JP", "pt_BR"}

// rawKeys are fields whose content is free-form (JSON schemas), never i18n.
var rawKeys = map[string]bool{"output_schema": true, "input_schema": true, "extra": true}

// lintTexts finds the i18n texts under n (mappings with an en_US key): a
// key that is not a locale is dropped with a warning, as Dify ignores it; a
// locale whose value is not a text is refused.
func (d *doc) lintTexts(n ast.Node) error {
	switch n := n.(type) {
	case *ast.MappingNode:
		if isText(n) {
			return d.lintText(n)
		}
		for _, kv := range n.Values {
			if err := d.lintValue(kv); err != nil {
				return err
			}
		}
	case *ast.MappingValueNode:
		return d.lintValue(n)
	case *ast.SequenceNode:
		for _, v := range n.Values {
			if err := d.lintTexts(v); err != nil {
				return err
			}
		}
	case *ast.AnchorNode:
		return d.lintTexts(n.Value)
	case *ast.TagNode:
		return d.lintTexts(n.Value)
	}
	return nil
}

// lintValue lints the value of one key, unless its content is free-form.
func (d *doc) lintValue(kv *ast.MappingValueNode) error {
	if kv.Key != nil && rawKeys[tokenValue(kv.Key)] {
		return nil
	}
	return d.lintTexts(kv.Value)
}

// isText reports whether a mapping is an i18n text: it has an en_US key.
func isText(m *ast.MappingNode) bool {
	for _, kv := range m.Values {
		if tokenValue(kv.Key) == "en_US" {
			return true
		}
	}
	return false
}

// lintText checks one i18n text and drops its keys that are not locales.
func (d *doc) lintText(m *ast.MappingNode) error {
	kept := m.Values[:0]
	for _, kv := range m.Values {
		key, field := tokenValue(kv.Key), fieldOf(kv.GetPath())
		if !slices.Contains(Locales, key) {
			d.warn.add(plugboard.Warning{File: d.file, Field: field, Line: lineOf(kv.Key),
				Msg: fmt.Sprintf("%q is not a language Dify reads (%s); it is ignored", key, strings.Join(Locales, ", "))})
			continue
		}
		switch kv.Value.(type) {
		case *ast.MappingNode, *ast.MappingValueNode, *ast.SequenceNode:
			return &Error{File: d.file, Field: field, Line: lineOf(kv.Key), Msg: "must be a text, not " + describeNode(kv.Value)}
		}
		kept = append(kept, kv)
	}
	m.Values = kept
	return nil
}

// decodeError words a decoding error of the value v (decoded from the node
// at path base) as a rejection naming the yaml field, what it must be and
// what it is, instead of the decoder's Go types.
func (d *doc) decodeError(err error, v any, base string) *Error {
	var ye yaml.Error
	if !errors.As(err, &ye) || ye.GetToken() == nil {
		return yamlError(d.file, err)
	}
	n := d.nodeAt(ye.GetToken())
	if n == nil {
		return yamlError(d.file, err)
	}
	field := fieldOf(n.GetPath())
	rel := strings.TrimPrefix(strings.TrimPrefix(field, base), ".")
	msg := "has a value of the wrong type (" + describeNode(n) + ")"
	if want := describeType(typeAt(reflect.TypeOf(v), rel)); want != "" {
		msg = "must be " + want + ", not " + describeNode(n)
	}
	line := d.line(field)
	if line == 0 {
		line = lineOf(n)
	}
	return &Error{File: d.file, Field: field, Line: line, Msg: msg}
}

// nodeAt returns the outermost node of the document that starts at tk.
func (d *doc) nodeAt(tk *token.Token) ast.Node {
	var found ast.Node
	ast.Walk(visitFunc(func(n ast.Node) bool {
		if found == nil && n.GetToken() == tk {
			found = n
		}
		return found == nil
	}), d.body())
	return found
}

// visitFunc adapts a function to ast.Visitor; it stops when f returns false.
type visitFunc func(ast.Node) bool

// Visit implements ast.Visitor.
func (f visitFunc) Visit(n ast.Node) ast.Visitor {
	if !f(n) {
		return nil
	}
	return f
}

// fieldOf turns a YAMLPath ("$.parameters[0].label") into a field path
// ("parameters[0].label").
func fieldOf(path string) string {
	return strings.TrimPrefix(strings.TrimPrefix(path, "$"), ".")
}

// typeAt returns the Go type found at a field path under t, nil when the
// path leads outside t's structure.
func typeAt(t reflect.Type, field string) reflect.Type {
	for field != "" && t != nil {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if strings.HasPrefix(field, "[") {
			end := strings.IndexByte(field, ']')
			if end < 0 || (t.Kind() != reflect.Slice && t.Kind() != reflect.Array) {
				return nil
			}
			if _, err := strconv.Atoi(field[1:end]); err != nil {
				return nil
			}
			t, field = t.Elem(), strings.TrimPrefix(field[end+1:], ".")
			continue
		}
		key := field
		if i := strings.IndexAny(field, ".["); i >= 0 {
			key, field = field[:i], strings.TrimPrefix(field[i:], ".")
		} else {
			field = ""
		}
		t = fieldType(t, key)
	}
	return t
}

// fieldType returns the type of key in a struct (by its yaml tag) or map.
func fieldType(t reflect.Type, key string) reflect.Type {
	switch t.Kind() {
	case reflect.Map:
		return t.Elem()
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name == key {
				return f.Type
			}
		}
	}
	return nil
}

var i18nType = reflect.TypeOf(plugboard.I18n{})

// describeType words what a value of Go type t is written as in yaml ("" when
// any value will do or t is unknown).
func describeType(t reflect.Type) string {
	if t == nil {
		return ""
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == i18nType:
		return "a text per language (like en_US: …)"
	case t.Kind() == reflect.String:
		return "a text"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Float64:
		return "a number"
	case t.Kind() == reflect.Slice:
		return "a list"
	case t.Kind() == reflect.Map || t.Kind() == reflect.Struct:
		return "a mapping"
	}
	return ""
}

// describeNode words what kind of yaml value n is.
func describeNode(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode, *ast.LiteralNode:
		return "a text"
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "a number"
	case *ast.BoolNode:
		return "true or false"
	case *ast.NullNode:
		return "empty"
	}
	return "a " + n.Type().String()
}

// nodeValue decodes the node at field into v, wording a failure by field.
func nodeValue(d *doc, n ast.Node, v any, field string) error {
	if err := yaml.NodeToValue(n, v); err != nil {
		return d.decodeError(err, v, field)
	}
	return nil
}
