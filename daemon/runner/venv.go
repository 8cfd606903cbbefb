package runner

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/plugboard/plugboard/daemon/errs"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

// Files of a Python package the runner reads.
const (
	venvDir          = ".venv"
	wheelsDir        = "wheels"
	requirementsFile = "requirements.txt"
	pyprojectFile    = "pyproject.toml"
)

// deps are a package's dependencies: a requirements file, or a list.
type deps struct {
	file string   // requirements.txt when it names anything
	list []string // [project].dependencies of pyproject.toml
}

func (d deps) empty() bool { return d.file == "" && len(d.list) == 0 }

// pipArgs are the arguments that name what to install.
func (d deps) pipArgs() []string {
	if d.file != "" {
		return []string{"-r", d.file}
	}
	return d.list
}

// preparePython builds dir/.venv with the package's dependencies.
func preparePython(ctx context.Context, m *pkgfmt.Manifest, dir string, opt Options) ([]string, error) {
	entry := m.Meta.Runner.Entrypoint
	if err := checkModule(dir, entry); err != nil {
		return nil, err
	}
	python, err := interpreter(opt)
	if err != nil {
		return nil, err
	}
	d, err := dependencies(ctx, python, dir)
	if err != nil {
		return nil, err
	}
	t := newTools(dir, opt)
	if err := t.createVenv(ctx, python, !d.empty()); err != nil {
		return nil, err
	}
	if !d.empty() {
		if err := t.install(ctx, d); err != nil {
			return nil, err
		}
	}
	return Command(m, dir), nil
}

// moduleRe is a dotted Python module name.
var moduleRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

// checkModule makes sure the entrypoint module is in the package.
func checkModule(dir, entry string) error {
	if !moduleRe.MatchString(entry) {
		return errs.Errorf(errs.Invalid, "manifest.yaml: meta.runner.entrypoint: %q is not a Python module name", entry)
	}
	base := filepath.Join(append([]string{dir}, strings.Split(entry, ".")...)...)
	for _, p := range []string{base + ".py", filepath.Join(base, "__main__.py")} {
		if _, err := os.Stat(p); err == nil {
			return nil
		}
	}
	rel, _ := filepath.Rel(dir, base)
	return errs.Errorf(errs.Invalid, "package has no entrypoint module %q (no %s.py or %s/__main__.py)", entry, rel, rel)
}

// dependencies reads requirements.txt, or else pyproject.toml's [project].dependencies.
func dependencies(ctx context.Context, python, dir string) (deps, error) {
	data, err := os.ReadFile(filepath.Join(dir, requirementsFile))
	if err == nil {
		if namesAny(data) {
			return deps{file: requirementsFile}, nil
		}
		return deps{}, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return deps{}, err
	}
	if _, err := os.Stat(filepath.Join(dir, pyprojectFile)); err != nil {
		return deps{}, nil
	}
	list, err := pyprojectDeps(ctx, python, dir)
	return deps{list: list}, err
}

// namesAny reports whether a requirements file has a line that is not blank or a comment.
func namesAny(data []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			return true
		}
	}
	return false
}

// pyprojectScript prints [project].dependencies as JSON, or the parse error.
const pyprojectScript = `import sys, json
try:
    import tomllib
except ImportError:
    sys.exit("reading pyproject.toml needs Python 3.11 or newer (tomllib)")
try:
    with open(sys.argv[1], "rb") as f:
        d = tomllib.load(f)
except Exception as e:
    sys.exit(str(e))
deps = d.get("project", {}).get("dependencies", [])
if not isinstance(deps, list) or not all(isinstance(x, str) for x in deps):
    sys.exit("[project].dependencies must be a list of strings")
print(json.dumps(deps))
`

// pyprojectDeps reads pyproject.toml with the interpreter's tomllib.
func pyprojectDeps(ctx context.Context, python, dir string) ([]string, error) {
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, python, "-c", pyprojectScript, filepath.Join(dir, pyprojectFile))
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, errs.Errorf(errs.Invalid, "pyproject.toml: %s", lastLines(stderr.String(), 3))
	}
	var list []string
	if err := json.Unmarshal(out.Bytes(), &list); err != nil {
		return nil, errs.Errorf(errs.Invalid, "pyproject.toml: cannot read [project].dependencies: %v", err)
	}
	return list, nil
}

// tools runs venv, pip or uv for one package directory.
type tools struct {
	dir     string
	uv      string
	offline bool
	log     io.Writer
}

func newTools(dir string, opt Options) *tools {
	t := &tools{dir: dir, uv: opt.UV, offline: opt.Offline, log: opt.Log}
	if t.uv == "" {
		t.uv, _ = exec.LookPath("uv")
	}
	if t.log == nil {
		t.log = io.Discard
	}
	return t
}

func (t *tools) venvPython() string { return filepath.Join(t.dir, venvDir, "bin", "python") }

// createVenv makes a fresh dir/.venv; pip is left out when nothing needs installing.
func (t *tools) createVenv(ctx context.Context, python string, withPip bool) error {
	venv := filepath.Join(t.dir, venvDir)
	if err := os.RemoveAll(venv); err != nil {
		return err
	}
	if t.uv != "" {
		return run(ctx, t.log, t.dir, "uv venv", t.uv, "venv", "--python", python, venv)
	}
	args := []string{"-m", "venv"}
	if !withPip {
		args = append(args, "--without-pip")
	}
	return run(ctx, t.log, t.dir, "python -m venv", python, append(args, venv)...)
}

// install installs d into the venv, offline from wheels/ when the package has one.
func (t *tools) install(ctx context.Context, d deps) error {
	var index []string
	if st, err := os.Stat(filepath.Join(t.dir, wheelsDir)); err == nil && st.IsDir() {
		index = []string{"--no-index", "--find-links", wheelsDir}
	} else if t.offline {
		index = []string{"--no-index"}
	}
	if t.uv != "" {
		args := append([]string{"pip", "install", "--python", t.venvPython()}, index...)
		return run(ctx, t.log, t.dir, "uv pip install", t.uv, append(args, d.pipArgs()...)...)
	}
	args := append([]string{"-m", "pip", "install", "--no-input", "--disable-pip-version-check"}, index...)
	return run(ctx, t.log, t.dir, "pip install", t.venvPython(), append(args, d.pipArgs()...)...)
}
