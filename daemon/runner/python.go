package runner

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/plugboard/plugboard"
)

// pyVersion is a Python version; Minor and Patch are -1 when not given.
type pyVersion struct{ Major, Minor, Patch int }

func (v pyVersion) String() string {
	switch {
	case v.Minor < 0:
		return strconv.Itoa(v.Major)
	case v.Patch < 0:
		return fmt.Sprintf("%d.%d", v.Major, v.Minor)
	}
	return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
}

// parsePyVersion reads "3", "3.12" or "3.12.1".
func parsePyVersion(s string) (pyVersion, bool) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) > 3 {
		return pyVersion{}, false
	}
	n := []int{0, -1, -1}
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return pyVersion{}, false
		}
		n[i] = v
	}
	return pyVersion{n[0], n[1], n[2]}, true
}

// wantedPython is the version m asks for in meta.runner.version (any
// Python 3 when it names none).
func wantedPython(m *plugboard.Manifest) (pyVersion, error) {
	s := m.Meta.Runner.Version
	if s == "" {
		return pyVersion{3, -1, -1}, nil
	}
	v, ok := parsePyVersion(s)
	if !ok || v.Major < 3 {
		return pyVersion{}, plugboard.Errorf(plugboard.EINVALID, "manifest.yaml: meta.runner.version: %q is not a Python 3 version like 3.12", s)
	}
	return v, nil
}

// pythonFor returns the interpreter m runs on.
func pythonFor(m *plugboard.Manifest, opt Options) (Interpreter, error) {
	want, err := wantedPython(m)
	if err != nil {
		return Interpreter{}, err
	}
	return findInterpreter(want, opt)
}
