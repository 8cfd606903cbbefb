// Package runner prepares an extracted package to run: it checks that the
// host can run it and builds the command line (a binary for the host's arch,
// or a Python venv with the package's dependencies).
//
// CONTRACT STUB: the exported API below is fixed; bodies are being written.
package runner

import (
	"context"
	"io"
	"time"

	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

// Options tunes preparation.
type Options struct {
	Python string    // python interpreter (default: python3 on PATH)
	UV     string    // uv binary (default: uv on PATH, if any)
	Log    io.Writer // receives the output of venv and pip
}

// Check reports, before anything is extracted, whether this host can run m:
// an unknown runner, a missing interpreter or an unsupported arch is an
// errs.Invalid error that says so.
func Check(m *pkgfmt.Manifest, opt Options) error { panic("not implemented") }

// Prepare readies the extracted package in dir and returns its command line.
func Prepare(ctx context.Context, m *pkgfmt.Manifest, dir string, opt Options) ([]string, error) {
	panic("not implemented")
}

// StartTimeout is the default start timeout for m's runner (120 s python, 10 s binary).
func StartTimeout(m *pkgfmt.Manifest) time.Duration { panic("not implemented") }
