package pkgfmt

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// doc is one parsed yaml file of a package, kept so that validation errors
// can point at the line of the field they are about.
type doc struct {
	file string
	ast  *ast.File
	warn *findings // where warnings about the file go (nil: dropped)
}

// parseDoc parses a yaml file and decodes it into v, recording warnings in
// w; a syntax error carries the parser's line, a value of the wrong type
// names its field.
func parseDoc(file string, data []byte, v any, w *findings) (*doc, error) {
	// A byte order mark is not part of the first key (Dify's yaml.v3 drops it).
	f, err := parser.ParseBytes(bytes.TrimPrefix(data, utf8BOM), 0)
	if err != nil {
		return nil, yamlError(file, err)
	}
	d := &doc{file: file, ast: f, warn: w}
	body := d.body()
	if body == nil {
		return nil, &Error{File: file, Msg: "file is empty"}
	}
	if _, ok := body.(*ast.MappingNode); !ok {
		return nil, &Error{File: file, Line: lineOf(body), Msg: "must be a yaml mapping"}
	}
	if expandedSize(body, map[string]int{}) > maxYAMLNodes {
		return nil, &Error{File: file, Msg: fmt.Sprintf("yaml expands to more than %d nodes (through aliases)", maxYAMLNodes)}
	}
	if err := d.lintTexts(body); err != nil {
		return nil, err
	}
	if err := yaml.NodeToValue(body, v); err != nil {
		return nil, d.decodeError(err, v, "")
	}
	return d, nil
}

// utf8BOM is the byte order mark some editors write at the start of a file.
var utf8BOM = []byte("\ufeff")

// body returns the first document's root node, nil when there is none.
func (d *doc) body() ast.Node {
	if len(d.ast.Docs) == 0 || d.ast.Docs[0] == nil {
		return nil
	}
	return d.ast.Docs[0].Body
}

// node returns the node at field (a path like "parameters[1].type"), or nil.
func (d *doc) node(field string) ast.Node {
	p, err := yaml.PathString("$." + field)
	if err != nil {
		return nil
	}
	n, err := p.FilterFile(d.ast)
	if err != nil {
		return nil
	}
	return n
}

// line returns the line of field, or of its nearest present parent, or 0.
func (d *doc) line(field string) int {
	for f := field; f != ""; f = parentField(f) {
		if l := d.keyLine(f); l > 0 {
			return l
		}
		if n := d.node(f); n != nil {
			return lineOf(n)
		}
	}
	return 0
}

// keyLine returns the line of field's key when field names a mapping key,
// so that a block value (whose first token is on a later line) is reported
// where its key is written.
func (d *doc) keyLine(field string) int {
	parent := parentField(field)
	key := strings.TrimPrefix(field[len(parent):], ".")
	if strings.HasPrefix(key, "[") {
		return 0
	}
	var m *ast.MappingNode
	if parent == "" {
		m, _ = d.body().(*ast.MappingNode)
	} else {
		m, _ = d.node(parent).(*ast.MappingNode)
	}
	if m == nil {
		return 0
	}
	for _, kv := range m.Values {
		if kv.Key != nil && kv.Key.GetToken() != nil && kv.Key.GetToken().Value == key {
			return lineOf(kv.Key)
		}
	}
	return 0
}

// scalar returns field's text as written in the file (so `1.0` stays "1.0").
func (d *doc) scalar(field string) (string, bool) {
	n := d.node(field)
	if n == nil || n.GetToken() == nil {
		return "", false
	}
	switch n.(type) {
	case *ast.MappingNode, *ast.SequenceNode, *ast.NullNode:
		return "", false
	}
	return n.GetToken().Value, true
}

// errorf returns a rejection of field in this file, with its line.
func (d *doc) errorf(field, format string, args ...any) *Error {
	return &Error{File: d.file, Field: field, Line: d.line(field), Msg: fmt.Sprintf(format, args...)}
}

// lineOf returns the line a node starts on.
func lineOf(n ast.Node) int {
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line
	}
	return 0
}

// parentField drops the last element of a field path: "a.b[1]" → "a.b" → "a".
func parentField(f string) string {
	for i := len(f) - 1; i >= 0; i-- {
		if f[i] == '.' || f[i] == '[' {
			return f[:i]
		}
	}
	return ""
}

// yamlError turns a go-yaml error into a rejection with the decoder's line.
func yamlError(file string, err error) *Error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		e := &Error{File: file, Msg: "bad yaml: " + ye.GetMessage()}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			e.Line = tk.Position.Line
		}
		return e
	}
	return &Error{File: file, Msg: "bad yaml: " + err.Error()}
}

// maxYAMLNodes bounds the nodes a yaml file may expand to once its aliases
// are resolved, so that a few lines of anchors cannot become gigabytes of
// declaration JSON ("billion laughs").
const maxYAMLNodes = 100_000

// expandedSize counts the nodes under n with every alias expanded, stopping
// once the count passes maxYAMLNodes.
func expandedSize(n ast.Node, anchors map[string]int) int {
	if n == nil {
		return 0
	}
	switch n := n.(type) {
	case *ast.MappingNode:
		total := 1
		for _, kv := range n.Values {
			total += expandedSize(kv, anchors)
			if total > maxYAMLNodes {
				break
			}
		}
		return total
	case *ast.MappingValueNode:
		return expandedSize(n.Key, anchors) + expandedSize(n.Value, anchors)
	case *ast.SequenceNode:
		total := 1
		for _, v := range n.Values {
			total += expandedSize(v, anchors)
			if total > maxYAMLNodes {
				break
			}
		}
		return total
	case *ast.AnchorNode:
		size := expandedSize(n.Value, anchors)
		anchors[tokenValue(n.Name)] = size
		return size
	case *ast.AliasNode:
		return anchors[tokenValue(n.Value)] + 1
	case *ast.TagNode:
		return expandedSize(n.Value, anchors)
	case *ast.MappingKeyNode:
		return expandedSize(n.Value, anchors)
	default:
		return 1
	}
}

// tokenValue returns the text of a node's token, "" when it has none.
func tokenValue(n ast.Node) string {
	if n == nil || n.GetToken() == nil {
		return ""
	}
	return n.GetToken().Value
}
