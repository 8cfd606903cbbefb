package runner

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

// ReadPaths lists what a contained plugin prepared in dir must read outside
// dir: for Python, the interpreter's installation (its prefixes and the
// library dirs on sys.path); nothing for a binary. The venv's interpreter is
// asked with -I -S, so that nothing of the package (a .pth file, a
// sitecustomize) runs uncontained.
func ReadPaths(ctx context.Context, m *pkgfmt.Manifest, dir string) ([]string, error) {
	if m.Meta.Runner.Language != pkgfmt.RunnerPython {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	python := filepath.Join(dir, venvDir, "bin", "python")
	script := "import sys, json; print(json.dumps([sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix] + sys.path))"
	out, err := exec.CommandContext(ctx, python, "-I", "-S", "-c", script).Output()
	if err != nil {
		return nil, err
	}
	var all []string
	if err := json.Unmarshal(out, &all); err != nil {
		return nil, err
	}
	var paths []string
	for _, p := range all {
		if filepath.IsAbs(p) && !strings.HasPrefix(p+"/", dir+"/") && !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	if real, err := filepath.EvalSymlinks(python); err == nil && !strings.HasPrefix(real, dir+"/") {
		paths = append(paths, real)
	}
	return paths, nil
}
