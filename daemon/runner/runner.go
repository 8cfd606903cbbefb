// Package runner prepares an extracted package to run: it checks that the
// host can run it and builds the command line (a binary for the host's arch,
// or a Python venv with the package's dependencies).
package runner

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/plugboard/plugboard"
)

// Options tunes preparation. The zero value finds everything on the host
// and installs from pip's default index.
type Options struct {
	// Pythons are interpreters the admin named (paths, or names on PATH);
	// they are asked first, before python3.X on PATH, pyenv and uv installs.
	Pythons []string
	// UV is the uv binary (default: uv on PATH, if any; "off" never uses uv).
	UV string
	// IndexURL is the package index dependencies come from ("": pip's
	// default, unless FindLinks is set, which then installs offline).
	IndexURL string
	// FindLinks are shared folders of wheels, searched before any index.
	FindLinks []string
	// CacheDir holds the pip and uv caches every plugin shares ("": none).
	CacheDir string
	// EnvTimeout bounds building one Python environment (DefaultEnvTimeout).
	EnvTimeout time.Duration
	// Offline installs dependencies only from wheel folders (pip
	// --no-index), even when the package has none: a missing dependency
	// then fails at once instead of reaching for an index.
	Offline bool

	// Log receives the full output of venv, pip and uv.
	Log io.Writer
	// Progress, when set, is told what preparation is doing ("collecting
	// pydantic (3 of 12)"), each time that changes.
	Progress func(detail string)
}

// Defaults.
const (
	PythonStartTimeout = 120 * time.Second
	BinaryStartTimeout = 10 * time.Second
	DefaultEnvTimeout  = 10 * time.Minute
)

// Prepared is a package ready to start.
type Prepared struct {
	Command []string
	Python  *Interpreter // the interpreter of a Python package's venv
}

// Check reports, before anything is extracted, whether this host can run m:
// an unknown runner, a missing interpreter or an unsupported arch is an
// plugboard.EINVALID error that says so.
func Check(m *plugboard.Manifest, opt Options) error {
	switch m.Meta.Runner.Language {
	case plugboard.RunnerBinary:
		return checkArch(m)
	case plugboard.RunnerPython:
		_, err := pythonFor(m, opt)
		return err
	default:
		return unknownRunner(m)
	}
}

// Prepare readies the extracted package in dir. It honours ctx: a cancelled
// preparation kills the tools it started.
func Prepare(ctx context.Context, m *plugboard.Manifest, dir string, opt Options) (*Prepared, error) {
	switch m.Meta.Runner.Language {
	case plugboard.RunnerBinary:
		if err := checkArch(m); err != nil {
			return nil, err
		}
		cmd, err := prepareBinary(m, dir)
		if err != nil {
			return nil, err
		}
		return &Prepared{Command: cmd}, nil
	case plugboard.RunnerPython:
		return preparePython(ctx, m, dir, opt)
	default:
		return nil, unknownRunner(m)
	}
}

// StartTimeout is the default start timeout for m's runner (120 s python, 10 s binary).
func StartTimeout(m *plugboard.Manifest) time.Duration {
	if m.Meta.Runner.Language == plugboard.RunnerBinary {
		return BinaryStartTimeout
	}
	return PythonStartTimeout
}

func unknownRunner(m *plugboard.Manifest) error {
	return plugboard.Errorf(plugboard.EINVALID, "manifest.yaml: meta.runner.language: unknown runner %q (want python or binary)", m.Meta.Runner.Language)
}

// Command returns the command line of a package already prepared in dir (by
// an earlier Prepare), without preparing anything again.
func Command(m *plugboard.Manifest, dir string) []string {
	if m.Meta.Runner.Language == plugboard.RunnerBinary {
		return []string{binaryPath(dir, m.Meta.Runner.Entrypoint)}
	}
	return []string{filepath.Join(dir, venvDir, "bin", "python"), "-m", m.Meta.Runner.Entrypoint}
}

// interpreterFile records, in a prepared venv, the interpreter it was made from.
const interpreterFile = "plugboard-python.json"

// PythonOf returns the interpreter a package prepared in dir runs on; nil
// for a binary package or a dir prepared before it was recorded.
func PythonOf(dir string) *Interpreter {
	data, err := os.ReadFile(filepath.Join(dir, venvDir, interpreterFile))
	if err != nil {
		return nil
	}
	var it Interpreter
	if json.Unmarshal(data, &it) != nil || it.Path == "" {
		return nil
	}
	return &it
}

func recordPython(dir string, it Interpreter) error {
	data, err := json.Marshal(it)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, venvDir, interpreterFile), data, 0o644)
}
