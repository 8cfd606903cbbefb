package manager

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/google/uuid"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

// An upload is decoded and extracted in one pass into DATA/unpacked/; an
// install then moves that tree into the plugin's working dir instead of
// inflating the package again. A package uploaded but not yet installed is
// kept both zipped (DATA/packages/, to restore from) and unpacked.

// unpackedDir is the top folder of unpacked uploads.
const unpackedDir = "unpacked"

// uploadPrefix names an upload's unpacked tree until its identifier is known.
const uploadPrefix = ".upload-"

// unpackedPath is where the uploaded package id waits, unpacked, to be installed.
func (m *Manager) unpackedPath(id plugboard.Identifier) string {
	return m.packageDir(unpackedDir, id)
}

// decodeUpload decodes and validates data, unpacking it into a fresh
// folder; keepUnpacked then files that folder under the package's identifier.
func (m *Manager) decodeUpload(data []byte) (*pkgfmt.Package, string, error) {
	tmp := filepath.Join(m.cfg.DataDir, unpackedDir, uploadPrefix+uuid.NewString())
	pkg, err := pkgfmt.DecodeInto(data, m.cfg.Limits, tmp)
	if err != nil {
		return nil, "", err
	}
	return pkg, tmp, nil
}

// keepUnpacked files the unpacked upload tmp of id for its install, unless
// the package is already unpacked or installed (then tmp is removed).
func (m *Manager) keepUnpacked(id plugboard.Identifier, tmp string) {
	dst := m.unpackedPath(id)
	if _, err := os.Stat(m.workDir(id)); err == nil {
		os.RemoveAll(tmp)
		return
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err == nil {
		if err := os.Rename(tmp, dst); err == nil {
			return
		}
	}
	os.RemoveAll(tmp) // already there (an earlier upload of it), or not keepable: installs extract it again
}

// extract puts the package id into the working dir dir: the tree its upload
// unpacked when it is there, else the stored package, decoded and extracted
// in one pass.
func (m *Manager) extract(id plugboard.Identifier, dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove stale %s: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if err := os.Rename(m.unpackedPath(id), dir); err == nil {
		return nil
	}
	data, err := m.packageData(id)
	if err != nil {
		return err
	}
	pkg, err := pkgfmt.DecodeInto(data, m.cfg.Limits, dir)
	if err != nil {
		return fmt.Errorf("stored package %s: %w", id, err)
	}
	if pkg.ID != id {
		os.RemoveAll(dir)
		return plugboard.Errorf(plugboard.EINTERNAL, "stored package %s is corrupt (its content is %s)", id, pkg.ID)
	}
	return nil
}

// packageData reads the stored package file of id.
func (m *Manager) packageData(id plugboard.Identifier) ([]byte, error) {
	data, err := os.ReadFile(m.packageFile(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "the package file of %s is missing from the data directory; upload it again", id)
	}
	return data, err
}

// removeUnpacked deletes the unpacked tree of id, if any.
func (m *Manager) removeUnpacked(id plugboard.Identifier) {
	if err := os.RemoveAll(m.unpackedPath(id)); err != nil {
		m.log.Warn("remove unpacked package", "plugin", id.String(), "err", err)
	}
}

// removeStaleUnpacked deletes, at start, unpacked trees whose package file
// is gone and uploads interrupted while unpacking.
func (m *Manager) removeStaleUnpacked() {
	top := filepath.Join(m.cfg.DataDir, unpackedDir)
	authors, _ := os.ReadDir(top)
	for _, a := range authors {
		if strings.HasPrefix(a.Name(), ".") {
			os.RemoveAll(filepath.Join(top, a.Name())) // an interrupted upload
			continue
		}
		entries, _ := os.ReadDir(filepath.Join(top, a.Name()))
		for _, e := range entries {
			// unpackedPath and packageFile share the package's folder and name.
			pkgFile := filepath.Join(m.cfg.DataDir, packagesDir, a.Name(), e.Name()+".difypkg")
			if !strings.HasPrefix(e.Name(), ".") && fileExists(pkgFile) {
				continue
			}
			os.RemoveAll(filepath.Join(top, a.Name(), e.Name()))
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// releaseLoop returns the heap's free memory to the system after each
// upload and install task (releaseMemory), until ctx ends. Those leave
// megabytes of garbage (request bodies, inflate buffers) that the runtime
// would otherwise hand back only minutes later.
func (m *Manager) releaseLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.release:
			debug.FreeOSMemory()
		}
	}
}

// releaseMemory asks releaseLoop for a release; requests made while one is
// pending are merged into it.
func (m *Manager) releaseMemory() {
	select {
	case m.release <- struct{}{}:
	default:
	}
}
