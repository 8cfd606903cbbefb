package runner

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/plugboard/plugboard/daemon/errs"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

// pyVersion is a Python version; Patch is -1 when not given.
type pyVersion struct{ Major, Minor, Patch int }

func (v pyVersion) String() string {
	if v.Patch < 0 {
		return fmt.Sprintf("%d.%d", v.Major, v.Minor)
	}
	return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
}

// atLeast compares major.minor only.
func (v pyVersion) atLeast(w pyVersion) bool {
	return v.Major > w.Major || v.Major == w.Major && v.Minor >= w.Minor
}

// parsePyVersion reads "3", "3.12" or "3.12.1".
func parsePyVersion(s string) (pyVersion, bool) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) > 3 {
		return pyVersion{}, false
	}
	n := []int{0, 0, -1}
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return pyVersion{}, false
		}
		n[i] = v
	}
	return pyVersion{n[0], n[1], n[2]}, true
}

// interpreter returns the python to use: opt.Python or python3 on PATH.
func interpreter(opt Options) (string, error) {
	name := opt.Python
	if name == "" {
		name = "python3"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return "", errs.Errorf(errs.Invalid, "package needs Python, but this host has no %s interpreter", name)
	}
	return path, nil
}

// versions caches each interpreter's version: asking costs a process start.
var versions struct {
	mu sync.Mutex
	m  map[string]pyVersion
}

// interpreterVersion asks python for its version, once per interpreter path.
func interpreterVersion(python string) (pyVersion, error) {
	versions.mu.Lock()
	defer versions.mu.Unlock()
	if v, ok := versions.m[python]; ok {
		return v, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "-c", `import sys;print("%d.%d.%d" % sys.version_info[:3])`).Output()
	if err != nil {
		return pyVersion{}, errs.Errorf(errs.Invalid, "cannot run the Python interpreter %s: %v", python, err)
	}
	v, ok := parsePyVersion(string(bytes.TrimSpace(out)))
	if !ok {
		return pyVersion{}, errs.Errorf(errs.Invalid, "cannot read the version of %s (it printed %q)", python, out)
	}
	if versions.m == nil {
		versions.m = map[string]pyVersion{}
	}
	versions.m[python] = v
	return v, nil
}

// checkPython reports whether the host's interpreter is new enough for m.
func checkPython(m *pkgfmt.Manifest, opt Options) error {
	var want pyVersion
	if s := m.Meta.Runner.Version; s != "" {
		v, ok := parsePyVersion(s)
		if !ok {
			return errs.Errorf(errs.Invalid, "manifest.yaml: meta.runner.version: %q is not a Python version like 3.12", s)
		}
		want = v
	}
	python, err := interpreter(opt)
	if err != nil {
		return err
	}
	have, err := interpreterVersion(python)
	if err != nil {
		return err
	}
	if !have.atLeast(want) {
		return errs.Errorf(errs.Invalid, "package needs Python %d.%d; this host has %s", want.Major, want.Minor, have)
	}
	return nil
}
