package runner

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/runtime"
)

// Files of a Python package the runner reads.
const (
	venvDir          = ".venv"
	wheelsDir        = "wheels"
	requirementsFile = "requirements.txt"
	pyprojectFile    = "pyproject.toml"
	uvLockFile       = "uv.lock"
)

// errEnvTimeout is the cause of a preparation stopped by Options.EnvTimeout.
var errEnvTimeout = errors.New("python environment time limit reached")

// deps are a package's dependencies: a requirements file, or a list.
type deps struct {
	file  string   // requirements.txt when it names anything
	list  []string // [project].dependencies of pyproject.toml
	names []string // the project names they list, in order (for progress)
}

func (d deps) empty() bool { return d.file == "" && len(d.list) == 0 }

// pipArgs are the arguments that name what to install.
func (d deps) pipArgs() []string {
	if d.file != "" {
		return []string{"-r", d.file}
	}
	return d.list
}

// preparePython builds dir/.venv on the interpreter m asks for and installs
// the package's dependencies into it, within Options.EnvTimeout.
func preparePython(ctx context.Context, m *plugboard.Manifest, dir string, opt Options) (*Prepared, error) {
	if err := checkModule(dir, m.Meta.Runner.Entrypoint); err != nil {
		return nil, err
	}
	it, err := pythonFor(m, opt)
	if err != nil {
		return nil, err
	}
	limit := opt.EnvTimeout
	if limit <= 0 {
		limit = DefaultEnvTimeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, limit, errEnvTimeout)
	defer cancel()
	b := newBuilder(dir, it, opt)
	if err := b.build(ctx); err != nil {
		return nil, b.explain(err, limit)
	}
	if err := recordPython(dir, it); err != nil {
		return nil, err
	}
	return &Prepared{Command: Command(m, dir), Python: &it}, nil
}

// builder builds one package's venv.
type builder struct {
	*session
	python Interpreter
	uv     string
	src    sources
	prog   *progress
	tool   string // "pip" or "uv", for messages
}

func newBuilder(dir string, it Interpreter, opt Options) *builder {
	log := opt.Log
	if log == nil {
		log = io.Discard
	}
	prog := &progress{report: opt.Progress}
	b := &builder{python: it, uv: uvBinary(opt), src: sourcesFor(dir, opt), prog: prog, tool: "pip"}
	b.session = &session{dir: dir, env: buildEnv(dir, opt), log: log, onLine: prog.line, readOnly: opt.FindLinks}
	if opt.CacheDir != "" {
		b.session.readWrite = []string{opt.CacheDir}
	}
	if b.uv != "" {
		b.tool = "uv"
	}
	return b
}

// uvBinary is the uv to use, or "" for none.
func uvBinary(opt Options) string {
	switch opt.UV {
	case "off":
		return ""
	case "":
		p, _ := exec.LookPath("uv")
		return p
	}
	return opt.UV
}

// buildEnv is the environment venv, pip and uv run with: the plugin's own
// scrubbed environment, the proxy settings needed to reach an index, and
// the shared caches; nothing else of the daemon's (no PYTHONPATH, PIP_*,
// UV_*, VIRTUAL_ENV …).
func buildEnv(dir string, opt Options) []string {
	env := runtime.BaseEnv(dir)
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	env = append(env, "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_INPUT=1", "UV_PYTHON_DOWNLOADS=never",
		"UV_PROJECT_ENVIRONMENT="+filepath.Join(dir, venvDir))
	if opt.CacheDir != "" {
		env = append(env, "PIP_CACHE_DIR="+filepath.Join(opt.CacheDir, "pip"), "UV_CACHE_DIR="+filepath.Join(opt.CacheDir, "uv"))
	}
	return env
}

// build makes the venv and installs the dependencies.
func (b *builder) build(ctx context.Context) error {
	b.prog.set(fmt.Sprintf("creating a Python %s environment", b.python.Version))
	d, err := dependencies(b.session)
	if err != nil {
		return err
	}
	if err := b.createVenv(ctx, !d.empty()); err != nil {
		return err
	}
	if d.empty() {
		return nil
	}
	b.prog.start(d.names, b.src.describe())
	return b.install(ctx, d)
}

func (b *builder) venvPython() string { return filepath.Join(b.dir, venvDir, "bin", "python") }

// createVenv makes a fresh dir/.venv. It has a pip of its own only when
// something needs installing and the interpreter's pip cannot do it.
func (b *builder) createVenv(ctx context.Context, withPip bool) error {
	venv := filepath.Join(b.dir, venvDir)
	if err := os.RemoveAll(venv); err != nil {
		return err
	}
	if b.uv != "" {
		return b.run(ctx, "uv venv", b.uv, "venv", "--python", b.python.Path, venv)
	}
	args := []string{"-m", "venv"}
	if !withPip || b.python.pipCanTarget() {
		args = append(args, "--without-pip")
	}
	return b.run(ctx, "python -m venv", b.python.Path, append(args, venv)...)
}

// install installs d into the venv from the sources: with uv and the
// package's uv.lock, exactly what the lock pins (uv sync --frozen, as Dify
// does); otherwise uv pip or pip.
func (b *builder) install(ctx context.Context, d deps) error {
	if b.uv != "" && d.file == "" && !b.src.wheels && exists(filepath.Join(b.dir, uvLockFile)) {
		args := []string{"sync", "--frozen", "--no-dev", "--no-install-project", "--python", b.venvPython()}
		return b.run(ctx, "uv sync", b.uv, append(args, b.src.uvArgs()...)...)
	}
	if b.uv != "" {
		args := append([]string{"pip", "install", "--python", b.venvPython()}, b.src.uvArgs()...)
		return b.run(ctx, "uv pip install", b.uv, append(args, d.pipArgs()...)...)
	}
	pip := []string{b.venvPython(), "-m", "pip"}
	if b.python.pipCanTarget() {
		pip = []string{b.python.Path, "-m", "pip", "--python", b.venvPython()}
	}
	args := append(pip[1:], "install", "--no-input", "--disable-pip-version-check")
	args = append(args, b.src.pipArgs()...)
	return b.run(ctx, "pip install", pip[0], append(args, d.pipArgs()...)...)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// sources are where dependencies come from.
type sources struct {
	wheels  bool     // the package's own wheels/ folder
	links   []string // the admin's shared wheel folders
	index   string   // the index URL; "" with offline
	offline bool     // no index at all
}

// sourcesFor decides the sources: a package with a wheels/ folder installs
// from it (and the shared folders) only; so does any package when the admin
// set wheel folders but no index, or asked for offline installs.
func sourcesFor(dir string, opt Options) sources {
	st, err := os.Stat(filepath.Join(dir, wheelsDir))
	src := sources{wheels: err == nil && st.IsDir(), links: opt.FindLinks, index: opt.IndexURL}
	src.offline = src.wheels || opt.Offline || (opt.IndexURL == "" && len(opt.FindLinks) > 0)
	if src.offline {
		src.index = ""
	}
	return src
}

func (s sources) pipArgs() []string {
	var args []string
	switch {
	case s.offline:
		args = append(args, "--no-index")
	case s.index != "":
		args = append(args, "--index-url", s.index)
		if u, err := url.Parse(s.index); err == nil && u.Scheme == "http" {
			// pip ignores a plain-http index unless trusted; the admin chose it.
			args = append(args, "--trusted-host", u.Hostname())
		}
	}
	if s.wheels {
		args = append(args, "--find-links", wheelsDir)
	}
	for _, l := range s.links {
		args = append(args, "--find-links", l)
	}
	return args
}

// uvArgs are pipArgs in uv's spelling.
func (s sources) uvArgs() []string {
	args := s.pipArgs()
	for i, a := range args {
		if a == "--trusted-host" {
			args[i] = "--allow-insecure-host"
		}
	}
	return args
}

// describe words the sources for messages: "the package's wheels/ folder and /srv/wheels".
func (s sources) describe() string {
	var parts []string
	if s.wheels {
		parts = append(parts, "the package's wheels/ folder")
	}
	parts = append(parts, s.links...)
	switch {
	case s.index != "":
		parts = append(parts, redactURL(s.index))
	case !s.offline:
		parts = append(parts, "PyPI (pip's default index)")
	}
	if len(parts) == 0 {
		return "no wheel folder or index (offline)"
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// moduleRe is a dotted Python module name.
var moduleRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

// checkModule makes sure the entrypoint module is in the package.
func checkModule(dir, entry string) error {
	if !moduleRe.MatchString(entry) {
		return plugboard.Errorf(plugboard.EINVALID, "manifest.yaml: meta.runner.entrypoint: %q is not a Python module name", entry)
	}
	base := filepath.Join(append([]string{dir}, strings.Split(entry, ".")...)...)
	for _, p := range []string{base + ".py", filepath.Join(base, "__main__.py")} {
		if _, err := os.Stat(p); err == nil {
			return nil
		}
	}
	rel, _ := filepath.Rel(dir, base)
	return plugboard.Errorf(plugboard.EINVALID, "package has no entrypoint module %q (no %s.py or %s/__main__.py)", entry, rel, rel)
}

// dependencies reads requirements.txt, or else pyproject.toml's [project].dependencies.
func dependencies(s *session) (deps, error) {
	data, err := os.ReadFile(filepath.Join(s.dir, requirementsFile))
	if err == nil {
		names := requirementNames(data)
		if len(names) > 0 {
			return deps{file: requirementsFile, names: names}, nil
		}
		return deps{}, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return deps{}, err
	}
	if _, err := os.Stat(filepath.Join(s.dir, pyprojectFile)); err != nil {
		return deps{}, nil
	}
	list, err := pyprojectDeps(s.dir)
	var names []string
	for _, r := range list {
		names = append(names, projectName(r))
	}
	return deps{list: list, names: names}, err
}

// requirementNames lists the projects a requirements file names, skipping
// blank lines, comments and options.
func requirementNames(data []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "-") {
			out = append(out, projectName(line))
		}
	}
	return out
}

// projectNameRe is the project name at the start of a requirement.
var projectNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*`)

// projectName is the project a requirement names ("pydantic" of "pydantic>=2").
func projectName(req string) string {
	if n := projectNameRe.FindString(strings.TrimSpace(req)); n != "" {
		return n
	}
	return req
}

// pyproject is the part of pyproject.toml the runner reads.
type pyproject struct {
	Project struct {
		Dependencies []string `toml:"dependencies"`
	} `toml:"project"`
}

// pyprojectDeps reads pyproject.toml's [project].dependencies.
func pyprojectDeps(dir string) ([]string, error) {
	var p pyproject
	if _, err := toml.DecodeFile(filepath.Join(dir, pyprojectFile), &p); err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return nil, plugboard.Errorf(plugboard.EINVALID, "pyproject.toml: line %d: %s", perr.Position.Line, perr.Message)
		}
		return nil, plugboard.Errorf(plugboard.EINVALID, "pyproject.toml: [project].dependencies must be a list of strings (%v)", err)
	}
	return p.Project.Dependencies, nil
}
