package devkit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/goccy/go-yaml"

	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

// PackDir builds a plugin directory into a package: a Go plugin using the
// binary runner is first compiled for every arch its manifest lists, then the
// directory is packed and validated. The build's output goes to log.
func PackDir(ctx context.Context, dir string, lim pkgfmt.Limits, log io.Writer) ([]byte, *pkgfmt.Package, error) {
	if err := buildIfGo(ctx, dir, log); err != nil {
		return nil, nil, err
	}
	return pkgfmt.Pack(os.DirFS(dir), lim)
}

// buildIfGo compiles a Go plugin's binaries; other plugins are left as they are.
func buildIfGo(ctx context.Context, dir string, log io.Writer) error {
	if !IsGoPlugin(dir) {
		return nil
	}
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.yaml"))
	if err != nil {
		return fmt.Errorf("%s: no manifest.yaml: %w", dir, err)
	}
	var m pkgfmt.Manifest
	if err := yaml.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("manifest.yaml: %w", err)
	}
	if m.Meta.Runner.Language != pkgfmt.RunnerBinary {
		return nil
	}
	err = BuildBinaries(ctx, dir, m.Meta.Runner.Entrypoint, m.Meta.Arch, log)
	if errors.Is(err, ErrNotGoPlugin) {
		return nil
	}
	return err
}
