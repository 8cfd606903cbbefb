package manager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/uuid"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/daemon/state"
)

// Upload decodes, validates and stores a package; it does not install it.
// Uploading the same package again is harmless.
func (m *Manager) Upload(ctx context.Context, tenant string, data []byte) (*apispec.UploadResult, error) {
	defer m.releaseMemory()
	pkg, unpacked, err := m.decodeUpload(data)
	if err != nil {
		return nil, err
	}
	res, err := m.storeUpload(ctx, pkg, data)
	if err != nil {
		os.RemoveAll(unpacked)
		return nil, err
	}
	m.keepUnpacked(pkg.ID, unpacked)
	return res, nil
}

// storeUpload stores a decoded package's file and record.
func (m *Manager) storeUpload(ctx context.Context, pkg *pkgfmt.Package, data []byte) (*apispec.UploadResult, error) {
	if _, err := uuid.Parse(pkg.ID.Author); err == nil {
		return nil, plugboard.Errorf(plugboard.EINVALID, "manifest.yaml: author: %q looks like a UUID, which only remote debugging plugins may use", pkg.ID.Author)
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
		warnings = []plugboard.Warning{}
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
func (m *Manager) Manifest(ctx context.Context, uniqueIdentifier string) (*plugboard.Manifest, error) {
	if _, err := plugboard.ParseIdentifier(uniqueIdentifier); err != nil {
		return nil, err
	}
	if in := m.remoteByUID(uniqueIdentifier); in != nil {
		return in.manifest, nil
	}
	row, err := m.db.FindPackage(ctx, uniqueIdentifier)
	if err != nil {
		return nil, err
	}
	var man plugboard.Manifest
	if err := json.Unmarshal(row.Declaration, &man); err != nil {
		return nil, fmt.Errorf("stored declaration of %s: %w", uniqueIdentifier, err)
	}
	return &man, nil
}

// Asset returns a file from a stored package's _assets.
func (m *Manager) Asset(ctx context.Context, uniqueIdentifier, name string) ([]byte, error) {
	id, err := plugboard.ParseIdentifier(uniqueIdentifier)
	if err != nil {
		return nil, err
	}
	if in := m.remoteByUID(uniqueIdentifier); in != nil {
		return in.remoteAsset(name)
	}
	if _, err := m.db.FindPackage(ctx, uniqueIdentifier); err != nil {
		return nil, err
	}
	if !fs.ValidPath(name) {
		return nil, plugboard.Errorf(plugboard.EINVALID, "invalid asset name %q", name)
	}
	data, ok, err := m.storedFile(id, "_assets/"+name)
	if err == nil && !ok {
		err = plugboard.Errorf(plugboard.ENOTFOUND, "asset %q is not in package %s", name, id)
	}
	return data, err
}

// Readme returns a stored package's README: readme/README_<language>.md
// when the language is given and the package has it, else README.md ("" when
// the package has none).
func (m *Manager) Readme(ctx context.Context, uniqueIdentifier, language string) (string, error) {
	id, err := plugboard.ParseIdentifier(uniqueIdentifier)
	if err != nil {
		return "", err
	}
	if in := m.remoteByUID(uniqueIdentifier); in != nil {
		return "", nil // a remote plugin sends no README
	}
	if _, err := m.db.FindPackage(ctx, uniqueIdentifier); err != nil {
		return "", err
	}
	if language != "" && fs.ValidPath(language) {
		if b, ok, err := m.storedFile(id, "readme/README_"+language+".md"); err != nil || ok {
			return string(b), err
		}
	}
	b, _, err := m.storedFile(id, "README.md")
	return string(b), err
}

// storedFile reads one file of the stored package id without decoding the
// rest (it was decoded when it was uploaded); ok is false when the package
// has no such file.
func (m *Manager) storedFile(id plugboard.Identifier, name string) ([]byte, bool, error) {
	data, ok, err := pkgfmt.ReadStoredFile(m.packageFile(id), name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, plugboard.Errorf(plugboard.ENOTFOUND, "the package file of %s is missing from the data directory; upload it again", id)
	}
	if err != nil {
		return nil, false, fmt.Errorf("stored package %s: %w", id, err)
	}
	return data, ok, nil
}

// packageRow returns an uploaded package and its declaration.
func (m *Manager) packageRow(ctx context.Context, uid string) (plugboard.Identifier, *plugboard.Manifest, error) {
	id, err := plugboard.ParseIdentifier(uid)
	if err != nil {
		return id, nil, err
	}
	man, err := m.Manifest(ctx, uid)
	return id, man, err
}
