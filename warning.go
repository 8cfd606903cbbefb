package plugboard

import "strconv"

// Warning is something in a package that Dify accepts but that is likely a
// mistake (a parameter declared twice, a select default that is not one of
// its options …): the package is accepted, and the install preview shows
// the warning. Like a rejection (daemon/pkgfmt's Error), it names the file,
// the yaml field and the line.
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

// join joins two non-empty parts with sep.
func join(a, sep, b string) string {
	if a == "" {
		return b
	}
	return a + sep + b
}
