package runner

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/runtime"
)

// Interpreter is a Python interpreter of this host, as it answered when asked.
type Interpreter struct {
	Path    string `json:"path"`          // its executable (sys.executable)
	Version string `json:"version"`       // e.g. 3.12.1
	Source  string `json:"source"`        // where it was found: configured, PATH, pyenv, uv
	Pip     string `json:"pip,omitempty"` // the version of its own pip, if it has one
}

// Interpreter sources, in the order they are searched.
const (
	SourceConfigured = "configured"
	SourcePath       = "PATH"
	SourcePyenv      = "pyenv"
	SourceUV         = "uv"
)

// ConfigHint says how an admin names interpreters, for messages.
const ConfigHint = "--python or PLUGBOARD_PYTHON (comma-separated paths)"

// candidate is an executable that may be a Python interpreter.
type candidate struct{ path, source string }

// pythonNameRe matches python3 and python3.X file names.
var pythonNameRe = regexp.MustCompile(`^python3(\.[0-9]+)?$`)

// candidates lists, in order of preference, every executable that may be a
// Python 3: the configured ones, python3 and python3.X on PATH, pyenv's
// versions and uv's managed installs.
func candidates(opt Options) []candidate {
	var out []candidate
	for _, p := range opt.Pythons {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, candidate{p, SourceConfigured})
		}
	}
	out = append(out, onPath()...)
	out = append(out, globbed(filepath.Join(pyenvRoot(), "versions", "*", "bin", "python3"), SourcePyenv)...)
	return append(out, globbed(filepath.Join(uvPythonDir(opt), "*", "bin", "python3"), SourceUV)...)
}

// onPath lists python3, then every python3.X, found in PATH's directories.
func onPath() []candidate {
	var out []candidate
	if p, err := exec.LookPath("python3"); err == nil {
		out = append(out, candidate{p, SourcePath})
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if e.Name() != "python3" && pythonNameRe.MatchString(e.Name()) {
				out = append(out, candidate{filepath.Join(dir, e.Name()), SourcePath})
			}
		}
	}
	return out
}

// globbed lists the files matching pattern, newest version first.
func globbed(pattern, source string) []candidate {
	paths, _ := filepath.Glob(pattern)
	slices.Reverse(paths) // Glob sorts; 3.9 after 3.13 is fine: each is asked its version
	out := make([]candidate, 0, len(paths))
	for _, p := range paths {
		out = append(out, candidate{p, source})
	}
	return out
}

// pyenvRoot is $PYENV_ROOT, else ~/.pyenv.
func pyenvRoot() string {
	if r := os.Getenv("PYENV_ROOT"); r != "" {
		return r
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".pyenv")
}

// uvPythonDir is where uv keeps the Pythons it installs: what `uv python
// dir` says, else $UV_PYTHON_INSTALL_DIR or ~/.local/share/uv/python.
func uvPythonDir(opt Options) string {
	home, _ := os.UserHomeDir()
	if uv := uvBinary(opt); uv != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, uv, "python", "dir")
		cmd.Env = runtime.BaseEnv(home) // with the daemon's HOME, where uv keeps its Pythons
		for _, k := range []string{"UV_PYTHON_INSTALL_DIR", "XDG_DATA_HOME"} {
			if v, ok := os.LookupEnv(k); ok {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
		}
		if out, err := cmd.Output(); err == nil {
			if dir := strings.TrimSpace(string(out)); dir != "" {
				return dir
			}
		}
	}
	if d := os.Getenv("UV_PYTHON_INSTALL_DIR"); d != "" {
		return d
	}
	data := os.Getenv("XDG_DATA_HOME")
	if data == "" {
		data = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(data, "uv", "python")
}

// probe is one interpreter's cached answer.
type probe struct {
	mod  time.Time
	size int64
	it   Interpreter
	err  error
}

// probes caches each candidate's answer until its file changes: asking
// costs a process start.
var probes struct {
	mu sync.Mutex
	m  map[string]probe
}

// probeScript prints the interpreter's version, real executable and the
// version of its pip ("" without one).
const probeScript = `import sys
print("%d.%d.%d" % sys.version_info[:3])
print(sys.executable)
try:
    import pip
    print(pip.__version__)
except Exception:
    print("-")
`

// ask runs c and asks it its version and executable, once per file version.
func ask(c candidate) (Interpreter, error) {
	path := c.path
	if !strings.ContainsRune(path, filepath.Separator) {
		p, err := exec.LookPath(path)
		if err != nil {
			return Interpreter{}, fmt.Errorf("%s: not found on PATH", path)
		}
		path = p
	}
	st, err := os.Stat(path)
	if err != nil {
		return Interpreter{}, fmt.Errorf("%s: %w", path, err)
	}
	probes.mu.Lock()
	defer probes.mu.Unlock()
	p, ok := probes.m[path]
	if !ok || !p.mod.Equal(st.ModTime()) || p.size != st.Size() {
		p = probe{mod: st.ModTime(), size: st.Size()}
		p.it, p.err = run1(path)
		if probes.m == nil {
			probes.m = map[string]probe{}
		}
		probes.m[path] = p
	}
	p.it.Source = c.source
	return p.it, p.err
}

// run1 asks one interpreter, in the scrubbed environment plugins get.
func run1(path string) (Interpreter, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-c", probeScript)
	cmd.Env = runtime.BaseEnv(os.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return Interpreter{}, fmt.Errorf("%s: %v %s", path, err, lastLines(stderr.String(), 1))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 3 || !filepath.IsAbs(lines[1]) {
		return Interpreter{}, fmt.Errorf("%s: unexpected answer %q", path, out)
	}
	if _, ok := parsePyVersion(lines[0]); !ok {
		return Interpreter{}, fmt.Errorf("%s: unexpected answer %q", path, out)
	}
	it := Interpreter{Path: strings.TrimSpace(lines[1]), Version: lines[0]}
	if pip := strings.TrimSpace(lines[2]); pip != "-" {
		it.Pip = pip
	}
	return it, nil
}

// pipCanTarget reports whether the interpreter's own pip can install into
// another environment (pip --python, pip 22.3 and later): the venv then
// needs no pip of its own, which makes it in a fraction of a second.
func (it Interpreter) pipCanTarget() bool {
	parts := strings.SplitN(it.Pip, ".", 3)
	if len(parts) < 2 {
		return false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	return err1 == nil && err2 == nil && (major > 22 || major == 22 && minor >= 3)
}

// Interpreters asks every candidate interpreter of this host its version
// and returns those that answered, in order of preference, once each.
func Interpreters(opt Options) []Interpreter {
	var out []Interpreter
	seen := map[string]bool{}
	for _, c := range candidates(opt) {
		it, err := ask(c)
		if err != nil {
			continue // a broken candidate (a pyenv shim of a missing version …)
		}
		real, err := filepath.EvalSymlinks(it.Path)
		if err != nil {
			real = it.Path
		}
		if !seen[real] {
			seen[real] = true
			out = append(out, it)
		}
	}
	return out
}

// choose picks the interpreter for want: the first of its minor version,
// else the oldest newer 3.x (ties go to the first found).
func choose(want pyVersion, found []Interpreter) (Interpreter, bool) {
	var best *Interpreter
	var bestV pyVersion
	for i, it := range found {
		v, _ := parsePyVersion(it.Version)
		switch {
		case v.Major != want.Major:
			continue
		case want.Minor < 0 || v.Minor == want.Minor:
			return found[i], true
		case v.Minor > want.Minor && (best == nil || v.Minor < bestV.Minor):
			best, bestV = &found[i], v
		}
	}
	if best == nil {
		return Interpreter{}, false
	}
	return *best, true
}

// findInterpreter returns the interpreter m runs on, or an error saying
// which version is needed, which were found and how to configure one.
func findInterpreter(want pyVersion, opt Options) (Interpreter, error) {
	found := Interpreters(opt)
	if it, ok := choose(want, found); ok {
		return it, nil
	}
	have := "no Python 3 interpreter"
	if len(found) > 0 {
		var parts []string
		for _, it := range found {
			parts = append(parts, it.Version+" ("+it.Path+")")
		}
		have = strings.Join(parts, ", ")
	}
	return Interpreter{}, plugboard.Errorf(plugboard.EINVALID,
		"package needs Python %s (manifest.yaml meta.runner.version) and this host has %s: install Python %s (pyenv, uv python install, or python%s from the system's packages) or name its interpreter with %s",
		want, have, want, want, ConfigHint)
}
