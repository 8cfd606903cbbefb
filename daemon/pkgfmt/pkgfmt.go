// Package pkgfmt reads, validates and writes plugin packages in Dify's
// .difypkg format (a zip with manifest.yaml, provider and tool yaml, assets,
// README and code).
package pkgfmt

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"strconv"

	"github.com/plugboard/plugboard/daemon/errs"
)

// Well-known files and folders of a package.
const (
	manifestFile = "manifest.yaml"
	readmeFile   = "README.md"
	assetsDir    = "_assets/"
)

// Limits bound what Decode accepts; a zero field means no limit.
type Limits struct {
	MaxPackage      int64 // compressed bytes (15 MiB)
	MaxUncompressed int64 // total uncompressed bytes (50 MiB)
	MaxEntries      int   // zip entries (10,000)
	MaxRatio        int   // largest uncompressed/compressed ratio of one entry (100)
}

// DefaultLimits returns the default Limits.
func DefaultLimits() Limits {
	return Limits{MaxPackage: 15 << 20, MaxUncompressed: 50 << 20, MaxEntries: 10000, MaxRatio: 100}
}

// Identifier is a package's unique identifier author/name:version@checksum.
type Identifier struct {
	Author, Name, Version, Checksum string
}

// String formats the identifier.
func (id Identifier) String() string {
	return id.Author + "/" + id.Name + ":" + id.Version + "@" + id.Checksum
}

// PluginID is author/name.
func (id Identifier) PluginID() string { return id.Author + "/" + id.Name }

// identifierRe is Dify's PluginUniqueIdentifier pattern.
var identifierRe = regexp.MustCompile(`^(?:([a-z0-9_-]{1,64})\/)?([a-z0-9_-]{1,255}):(\d{1,4}(?:\.\d{1,4}){1,3}(?:-\w{1,16})?)@([a-f0-9]{32,64})$`)

// ParseIdentifier parses author/name:version@checksum; an error is errs.Invalid.
// As in Dify, the author part is optional.
func ParseIdentifier(s string) (Identifier, error) {
	m := identifierRe.FindStringSubmatch(s)
	if m == nil {
		return Identifier{}, errs.Errorf(errs.Invalid, "invalid plugin identifier %q (want author/name:version@checksum)", s)
	}
	return Identifier{Author: m[1], Name: m[2], Version: m[3], Checksum: m[4]}, nil
}

// Package is a decoded and validated package.
type Package struct {
	ID       Identifier
	Manifest *Manifest // with Tool filled in
	Readme   string
	Raw      []byte // the package file as uploaded
	Signed   bool   // a signature is present in the zip comment (not yet verified)
	// Warnings are what Dify accepts but looks wrong (shown before install).
	Warnings []Warning

	files fileSet
}

// Error is a rejection of a package: which file, which yaml field (and line,
// when known), and what is wrong. Its code (errs.Code) is errs.Invalid.
type Error struct {
	File  string
	Field string
	Line  int
	Msg   string
}

// Error formats the rejection as "file: field (line N): message", leaving
// out what is not known.
func (e *Error) Error() string {
	s := e.File
	if e.Field != "" {
		s = join(s, ": ", e.Field)
	}
	if e.Line > 0 {
		s = join(s, " ", "(line "+strconv.Itoa(e.Line)+")")
	}
	return join(s, ": ", e.Msg)
}

// Unwrap gives the rejection its errs code, so errs.Code(err) is errs.Invalid
// and errs.Message(err) is the full text.
func (e *Error) Unwrap() error { return &errs.Error{Code: errs.Invalid, Message: e.Error()} }

// join joins two non-empty parts with sep.
func join(a, sep, b string) string {
	if a == "" {
		return b
	}
	return a + sep + b
}

// fileSet is a package's files, sorted by path.
type fileSet []entry

// get returns the content of the file at p (a slash path, cleaned).
func (s fileSet) get(p string) ([]byte, bool) {
	i, ok := findEntry(s, path.Clean(p))
	if !ok {
		return nil, false
	}
	data, err := s[i].content()
	return data, err == nil
}

// findEntry binary-searches the sorted files for p.
func findEntry(files fileSet, p string) (int, bool) {
	lo, hi := 0, len(files)
	for lo < hi {
		mid := (lo + hi) / 2
		if files[mid].path < p {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, lo < len(files) && files[lo].path == p
}

// Decode reads and validates a package held in memory. The package keeps
// data and its small files; larger files are inflated again when read.
func Decode(data []byte, lim Limits) (*Package, error) {
	return decode(data, lim, nil)
}

// decode is Decode, also writing every file under out when it is not nil.
func decode(data []byte, lim Limits, out *os.Root) (*Package, error) {
	entries, zr, err := readZip(data, lim, out)
	if err != nil {
		return nil, err
	}
	files := fileSet(entries)
	raw, ok := files.get(manifestFile)
	if !ok {
		return nil, &Error{File: manifestFile, Msg: "missing: the package has no manifest.yaml at its root"}
	}
	w := &findings{}
	m, err := parseDeclarations(raw, files, w)
	if err != nil {
		return nil, err
	}
	readme, _ := files.get(readmeFile)
	return &Package{
		ID:       Identifier{Author: m.Author, Name: m.Name, Version: m.Version, Checksum: checksum(entries)},
		Manifest: m,
		Readme:   string(readme),
		Raw:      data,
		Signed:   isSignature(zr.Comment),
		Warnings: w.list,
		files:    files,
	}, nil
}

// parseDeclarations decodes manifest.yaml and the declaration files it
// names (models are left undecoded), filling in Dify's defaults.
func parseDeclarations(raw []byte, files fileSet, w *findings) (*Manifest, error) {
	m, d, err := parseManifest(raw, files, w)
	if err != nil {
		return nil, err
	}
	p := m.Plugins
	if m.Tool, err = parseKind(d, "plugins.tools", p.Tools, files, w, parseProvider); err != nil {
		return nil, err
	}
	if m.Endpoint, err = parseKind(d, "plugins.endpoints", p.Endpoints, files, w, parseEndpointGroup); err != nil {
		return nil, err
	}
	if m.AgentStrategy, err = parseKind(d, "plugins.agent_strategies", p.AgentStrategies, files, w, parseAgentStrategyProvider); err != nil {
		return nil, err
	}
	if m.Datasource, err = parseKind(d, "plugins.datasources", p.Datasources, files, w, parseDatasourceProvider); err != nil {
		return nil, err
	}
	if m.Trigger, err = parseKind(d, "plugins.triggers", p.Triggers, files, w, parseTriggerProvider); err != nil {
		return nil, err
	}
	m.fillDefaults()
	return m, nil
}

// parseKind decodes every declaration file the manifest lists under field
// and, as Dify's decoder does, keeps the last (nil when none is listed);
// listing more than one is a warning, since the others are not used.
func parseKind[T any](d *doc, field string, paths []string, files fileSet, w *findings,
	parse func(string, fileSet, *findings) (*T, error)) (*T, error) {
	var last *T
	for _, p := range paths {
		v, err := parse(path.Clean(p), files, w)
		if err != nil {
			return nil, err
		}
		last = v
	}
	if len(paths) > 1 {
		d.warnf(fmt.Sprintf("%s[%d]", field, len(paths)-1), "Dify uses only the last file listed here; the others are checked but not used")
	}
	return last, nil
}

// isSignature reports whether a zip comment holds Dify's signature object.
func isSignature(comment string) bool {
	var sig struct {
		Signature string `json:"signature"`
		Time      *int64 `json:"time"`
	}
	return json.Unmarshal([]byte(comment), &sig) == nil && sig.Signature != "" && sig.Time != nil
}

// Asset returns a file under _assets/ by its name in the manifest.
func (p *Package) Asset(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, errs.Errorf(errs.Invalid, "invalid asset name %q", name)
	}
	data, ok := p.files.get(assetsDir + name)
	if !ok {
		return nil, errs.Errorf(errs.NotFound, "asset %q is not in package %s", name, p.ID)
	}
	return data, nil
}

// Files lists the paths of the package's files, sorted.
func (p *Package) Files() []string {
	out := make([]string, len(p.files))
	for i, e := range p.files {
		out[i] = e.path
	}
	return out
}

// ReadFile returns the content of one file of the package.
func (p *Package) ReadFile(name string) ([]byte, error) {
	data, ok := p.files.get(name)
	if !ok || !fs.ValidPath(name) {
		return nil, errs.Errorf(errs.NotFound, "file %q is not in package %s", name, p.ID)
	}
	return data, nil
}
