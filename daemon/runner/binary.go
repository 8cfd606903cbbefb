package runner

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"

	"github.com/plugboard/plugboard"
)

// checkArch reports whether the host's arch is among the package's.
func checkArch(m *plugboard.Manifest) error {
	if slices.Contains(m.Meta.Arch, goruntime.GOARCH) {
		return nil
	}
	have := "no architecture"
	if len(m.Meta.Arch) > 0 {
		have = strings.Join(m.Meta.Arch, ", ")
	}
	return plugboard.Errorf(plugboard.EINVALID, "package supports %s only; this host is %s", have, goruntime.GOARCH)
}

// prepareBinary finds the executable for the host's arch and makes it executable.
func prepareBinary(m *plugboard.Manifest, dir string) ([]string, error) {
	entry := m.Meta.Runner.Entrypoint
	if entry == "" || entry != filepath.Base(entry) || entry == "." || entry == ".." {
		return nil, plugboard.Errorf(plugboard.EINVALID, "manifest.yaml: meta.runner.entrypoint: %q is not a file name", entry)
	}
	rel := filepath.Join("bin", goruntime.GOARCH, entry)
	path := binaryPath(dir, entry)
	info, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, plugboard.Errorf(plugboard.EINVALID, "package has no executable for %s: %s is missing", goruntime.GOARCH, rel)
	case err != nil:
		return nil, err
	case !info.Mode().IsRegular():
		return nil, plugboard.Errorf(plugboard.EINVALID, "package executable %s is not a regular file", rel)
	}
	if err := os.Chmod(path, 0o755); err != nil {
		return nil, err
	}
	return []string{path}, nil
}

// binaryPath is where the executable for the host's arch lives in dir.
func binaryPath(dir, entry string) string {
	return filepath.Join(dir, "bin", goruntime.GOARCH, entry)
}
