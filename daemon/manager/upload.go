package manager

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/uuid"

	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/errs"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/daemon/state"
)

// Upload decodes, validates and stores a package; it does not install it.
// Uploading the same package again is harmless.
func (m *Manager) Upload(ctx context.Context, tenant string, data []byte) (*apispec.UploadResult, error) {
	pkg, err := pkgfmt.Decode(data, m.cfg.Limits)
	if err != nil {
		return nil, err
	}
	if _, err := uuid.Parse(pkg.ID.Author); err == nil {
		return nil, errs.Errorf(errs.Invalid, "manifest.yaml: author: %q looks like a UUID, which only remote debugging plugins may use", pkg.ID.Author)
	}
	if err := writeFileAtomic(m.packageFile(pkg.ID), data); err != nil {
		return nil, fmt.Errorf("store package %s: %w", pkg.ID, err)
	}
	decl, err := json.Marshal(pkg.Manifest)
	if err != nil {
		return nil, err
	}
	row := &state.Package{
		UniqueIdentifier: pkg.ID.String(),
		PluginID:         pkg.ID.PluginID(),
		Version:          pkg.ID.Version,
		Checksum:         pkg.ID.Checksum,
		Declaration:      decl,
		Signed:           pkg.Signed,
	}
	if err := m.db.CreatePackage(ctx, row); err != nil {
		return nil, err
	}
	warnings := pkg.Warnings
	if warnings == nil {
		warnings = []pkgfmt.Warning{}
	}
	return &apispec.UploadResult{UniqueIdentifier: pkg.ID.String(), Manifest: pkg.Manifest, Warnings: warnings}, nil
}

// writeFileAtomic writes data to path through a synced temporary file renamed
// into place, so readers see the whole file or none.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// Manifest returns the manifest of a stored package.
func (m *Manager) Manifest(ctx context.Context, uniqueIdentifier string) (*pkgfmt.Manifest, error) {
	if _, err := pkgfmt.ParseIdentifier(uniqueIdentifier); err != nil {
		return nil, err
	}
	if in := m.remoteByUID(uniqueIdentifier); in != nil {
		return in.manifest, nil
	}
	row, err := m.db.FindPackage(ctx, uniqueIdentifier)
	if err != nil {
		return nil, err
	}
	var man pkgfmt.Manifest
	if err := json.Unmarshal(row.Declaration, &man); err != nil {
		return nil, fmt.Errorf("stored declaration of %s: %w", uniqueIdentifier, err)
	}
	return &man, nil
}

// Asset returns a file from a stored package's _assets.
func (m *Manager) Asset(ctx context.Context, uniqueIdentifier, name string) ([]byte, error) {
	id, err := pkgfmt.ParseIdentifier(uniqueIdentifier)
	if err != nil {
		return nil, err
	}
	if in := m.remoteByUID(uniqueIdentifier); in != nil {
		return in.remoteAsset(name)
	}
	if _, err := m.db.FindPackage(ctx, uniqueIdentifier); err != nil {
		return nil, err
	}
	pkg, err := m.readPackage(id)
	if err != nil {
		return nil, err
	}
	return pkg.Asset(name)
}

// Readme returns a stored package's README: readme/README_<language>.md
// when the language is given and the package has it, else README.md ("" when
// the package has none).
func (m *Manager) Readme(ctx context.Context, uniqueIdentifier, language string) (string, error) {
	id, err := pkgfmt.ParseIdentifier(uniqueIdentifier)
	if err != nil {
		return "", err
	}
	if in := m.remoteByUID(uniqueIdentifier); in != nil {
		return "", nil // a remote plugin sends no README
	}
	if _, err := m.db.FindPackage(ctx, uniqueIdentifier); err != nil {
		return "", err
	}
	pkg, err := m.readPackage(id)
	if err != nil {
		return "", err
	}
	if language != "" {
		if b, err := pkg.ReadFile("readme/README_" + language + ".md"); err == nil {
			return string(b), nil
		}
	}
	return pkg.Readme, nil
}

// packageRow returns an uploaded package and its declaration.
func (m *Manager) packageRow(ctx context.Context, uid string) (pkgfmt.Identifier, *pkgfmt.Manifest, error) {
	id, err := pkgfmt.ParseIdentifier(uid)
	if err != nil {
		return id, nil, err
	}
	man, err := m.Manifest(ctx, uid)
	return id, man, err
}
