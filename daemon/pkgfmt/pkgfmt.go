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
	"strconv"

	"github.com/plugboard/plugboard"
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

// Package is a decoded and validated package.
type Package struct {
	ID       plugboard.Identifier
	Manifest *plugboard.Manifest // with its declarations (Tool, Model …) filled in
	Readme   string
	Raw      []byte // the package file as uploaded
	Signed   bool   // a signature is present in the zip comment (not yet verified)
	// Warnings are what Dify accepts but looks wrong (shown before install).
	Warnings []plugboard.Warning

	files fileSet
}

// Error is a rejection of a package: which file, which yaml field (and line,
// when known), and what is wrong. Its code (plugboard.ErrorCode) is
// plugboard.EINVALID.
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

// Unwrap gives the rejection its error code, so plugboard.ErrorCode(err) is
// plugboard.EINVALID and plugboard.ErrorMessage(err) is the full text.
func (e *Error) Unwrap() error { return &plugboard.Error{Code: plugboard.EINVALID, Message: e.Error()} }

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
		ID:       plugboard.Identifier{Author: m.Author, Name: m.Name, Version: m.Version, Checksum: checksum(entries)},
		Manifest: m,
		Readme:   string(readme),
		Raw:      data,
		Signed:   isSignature(zr.Comment),
		Warnings: w.list,
		files:    files,
	}, nil
}

// parseDeclarations decodes manifest.yaml and the declaration files it
// names, filling in Dify's defaults.
func parseDeclarations(raw []byte, files fileSet, w *findings) (*plugboard.Manifest, error) {
	m, d, err := parseManifest(raw, files, w)
	if err != nil {
		return nil, err
	}
	p := m.Plugins
	if m.Tool, err = parseKind(d, "plugins.tools", p.Tools, files, w, parseProvider); err != nil {
		return nil, err
	}
	if m.Model, err = parseKind(d, "plugins.models", p.Models, files, w, parseModelProvider); err != nil {
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
	m.FillDefaults()
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
		return nil, plugboard.Errorf(plugboard.EINVALID, "invalid asset name %q", name)
	}
	data, ok := p.files.get(assetsDir + name)
	if !ok {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "asset %q is not in package %s", name, p.ID)
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
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "file %q is not in package %s", name, p.ID)
	}
	return data, nil
}
