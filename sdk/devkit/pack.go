package devkit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/goccy/go-yaml"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

// PackDir builds a plugin directory into a package: a Go plugin using the
// binary runner is first compiled, into a temporary directory of this call's
// own, for every arch its manifest lists; then the directory is packed with
// those binaries in place of any in its bin/, and validated. The source tree
// is only read. The build's output goes to log.
func PackDir(ctx context.Context, dir string, lim pkgfmt.Limits, log io.Writer) ([]byte, *pkgfmt.Package, error) {
	opts := pkgfmt.PackOptions{Skip: IsBuildTemp}
	built, err := buildIfGo(ctx, dir, log)
	if err != nil {
		return nil, nil, err
	}
	if built != "" {
		defer os.RemoveAll(built)
		opts.Built = os.DirFS(built)
	}
	return pkgfmt.PackWith(os.DirFS(dir), lim, opts)
}

// buildIfGo compiles a Go plugin's binaries into a new temporary directory
// and returns it; for other plugins it returns "".
func buildIfGo(ctx context.Context, dir string, log io.Writer) (string, error) {
	if !IsGoPlugin(dir) {
		return "", nil
	}
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.yaml"))
	if err != nil {
		return "", fmt.Errorf("%s: no manifest.yaml: %w", dir, err)
	}
	var m plugboard.Manifest
	if err := yaml.Unmarshal(raw, &m); err != nil {
		return "", fmt.Errorf("manifest.yaml: %w", err)
	}
	if m.Meta.Runner.Language != plugboard.RunnerBinary {
		return "", nil
	}
	out, err := os.MkdirTemp("", "plugboard-build-")
	if err != nil {
		return "", err
	}
	if err := BuildBinaries(ctx, dir, out, m.Meta.Runner.Entrypoint, m.Meta.Arch, log); err != nil {
		os.RemoveAll(out)
		if errors.Is(err, ErrNotGoPlugin) {
			return "", nil
		}
		return "", err
	}
	return out, nil
}
