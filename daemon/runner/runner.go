// Package runner prepares an extracted package to run: it checks that the
// host can run it and builds the command line (a binary for the host's arch,
// or a Python venv with the package's dependencies).
package runner

import (
	"context"
	"io"
	"path/filepath"
	"time"

	"github.com/plugboard/plugboard/daemon/errs"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

// Options tunes preparation.
type Options struct {
	Python string    // python interpreter (default: python3 on PATH)
	UV     string    // uv binary (default: uv on PATH, if any)
	Log    io.Writer // receives the output of venv and pip
	// Offline installs dependencies only from the package's wheels/ folder
	// (pip --no-index), even when the package has none: a missing dependency
	// then fails at once instead of reaching for an index.
	Offline bool
}

// Default start timeouts per runner.
const (
	PythonStartTimeout = 120 * time.Second
	BinaryStartTimeout = 10 * time.Second
)

// Check reports, before anything is extracted, whether this host can run m:
// an unknown runner, a missing interpreter or an unsupported arch is an
// errs.Invalid error that says so.
func Check(m *pkgfmt.Manifest, opt Options) error {
	switch m.Meta.Runner.Language {
	case pkgfmt.RunnerBinary:
		return checkArch(m)
	case pkgfmt.RunnerPython:
		return checkPython(m, opt)
	default:
		return unknownRunner(m)
	}
}

// Prepare readies the extracted package in dir and returns its command line.
// It honours ctx: a cancelled preparation kills the tools it started.
func Prepare(ctx context.Context, m *pkgfmt.Manifest, dir string, opt Options) ([]string, error) {
	if err := Check(m, opt); err != nil {
		return nil, err
	}
	if m.Meta.Runner.Language == pkgfmt.RunnerBinary {
		return prepareBinary(m, dir)
	}
	return preparePython(ctx, m, dir, opt)
}

// StartTimeout is the default start timeout for m's runner (120 s python, 10 s binary).
func StartTimeout(m *pkgfmt.Manifest) time.Duration {
	if m.Meta.Runner.Language == pkgfmt.RunnerBinary {
		return BinaryStartTimeout
	}
	return PythonStartTimeout
}

func unknownRunner(m *pkgfmt.Manifest) error {
	return errs.Errorf(errs.Invalid, "manifest.yaml: meta.runner.language: unknown runner %q (want python or binary)", m.Meta.Runner.Language)
}

// Command returns the command line of a package already prepared in dir (by
// an earlier Prepare), without preparing anything again.
func Command(m *pkgfmt.Manifest, dir string) []string {
	if m.Meta.Runner.Language == pkgfmt.RunnerBinary {
		return []string{binaryPath(dir, m.Meta.Runner.Entrypoint)}
	}
	return []string{filepath.Join(dir, venvDir, "bin", "python"), "-m", m.Meta.Runner.Entrypoint}
}
