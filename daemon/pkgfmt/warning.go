package pkgfmt

import (
	"fmt"
	"strconv"
)

// Warning is something in a package that Dify accepts but that is likely a
// mistake (a parameter declared twice, a select default that is not one of
// its options …): the package is accepted, and the install preview shows
// the warning. Like Error, it names the file, the yaml field and the line.
type Warning struct {
	File  string `json:"file"`
	Field string `json:"field,omitempty"`
	Line  int    `json:"line,omitempty"`
	Msg   string `json:"message"`
}

// String formats the warning as "file: field (line N): message".
func (w Warning) String() string {
	s := w.File
	if w.Field != "" {
		s = join(s, ": ", w.Field)
	}
	if w.Line > 0 {
		s = join(s, " ", "(line "+strconv.Itoa(w.Line)+")")
	}
	return join(s, ": ", w.Msg)
}

// findings gathers the warnings of one decode, across the package's files.
type findings struct{ list []Warning }

// add records a warning unless it is already there.
func (f *findings) add(w Warning) {
	if f == nil {
		return
	}
	for _, o := range f.list {
		if o == w {
			return
		}
	}
	f.list = append(f.list, w)
}

// warnf records a warning about field of this file, with its line.
func (d *doc) warnf(field, format string, args ...any) {
	d.warn.add(Warning{File: d.file, Field: field, Line: d.line(field), Msg: fmt.Sprintf(format, args...)})
}
