package runner

import (
	"context"
	"path/filepath"

	"github.com/plugboard/plugboard"
)

// ReadPaths lists what a contained plugin prepared in dir must read outside
// dir: for Python, the interpreter's installation (its prefixes and the
// library dirs on sys.path); nothing for a binary. The venv's interpreter is
// asked with -I -S, so that nothing of the package (a .pth file, a
// sitecustomize) runs uncontained.
func ReadPaths(ctx context.Context, m *plugboard.Manifest, dir string) ([]string, error) {
	if m.Meta.Runner.Language != plugboard.RunnerPython {
		return nil, nil
	}
	_, all, err := interpreterPaths(ctx, filepath.Join(dir, venvDir, "bin", "python"))
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, p := range all {
		if !insideDir(p, dir) {
			paths = append(paths, p)
		}
	}
	return paths, nil
}
