package pkgfmt

import (
	"fmt"

	"github.com/plugboard/plugboard"
)

// findings gathers the warnings of one decode, across the package's files.
type findings struct{ list []plugboard.Warning }

// add records a warning unless it is already there.
func (f *findings) add(w plugboard.Warning) {
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
	d.warn.add(plugboard.Warning{File: d.file, Field: field, Line: d.line(field), Msg: fmt.Sprintf(format, args...)})
}
