package marketplace

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

// manifestVersion is the top-level version line of a manifest.yaml.
var manifestVersion = regexp.MustCompile(`(?m)^version:.*$`)

// PackVersion packs the plugin source in dir as the given version: it
// copies dir to a temporary folder, rewrites the manifest's version there
// and packs the copy. Tests and demos use it to publish several versions
// of one plugin.
func PackVersion(dir, version string) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "plugboard-pack-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if err := os.CopyFS(tmp, os.DirFS(dir)); err != nil {
		return nil, fmt.Errorf("copy %s: %w", dir, err)
	}
	mf := filepath.Join(tmp, "manifest.yaml")
	m, err := os.ReadFile(mf)
	if err != nil {
		return nil, err
	}
	if !manifestVersion.Match(m) {
		return nil, fmt.Errorf("%s/manifest.yaml has no version line", dir)
	}
	m = manifestVersion.ReplaceAll(m, []byte("version: "+version))
	if err := os.WriteFile(mf, m, 0o644); err != nil {
		return nil, err
	}
	data, _, err := pkgfmt.Pack(os.DirFS(tmp), pkgfmt.DefaultLimits())
	return data, err
}
