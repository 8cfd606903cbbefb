package pkgfmt

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/plugboard/plugboard/daemon/errs"
)

// Extract writes the package's files under dir (which must not exist yet),
// keeping executable bits. The files are written into a temporary sibling
// directory that is renamed into place, so a failure leaves nothing behind.
func (p *Package) Extract(dir string) error {
	if _, err := os.Lstat(dir); err == nil {
		return errs.Errorf(errs.Conflict, "cannot extract package %s: %s already exists", p.ID, dir)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("extract package %s: %w", p.ID, err)
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("extract package %s: %w", p.ID, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("extract package %s: %w", p.ID, err)
	}
	if err := p.writeFiles(tmp); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("extract package %s: %w", p.ID, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("extract package %s: %w", p.ID, err)
	}
	return nil
}

// writeFiles writes every file of the package under dir, confined to it.
func (p *Package) writeFiles(dir string) error {
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	for _, e := range p.files {
		if d := path.Dir(e.path); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
		if err := root.WriteFile(e.path, e.data, e.mode); err != nil {
			return err
		}
		// The umask may have cleared bits of the mode asked for.
		if err := root.Chmod(e.path, e.mode); err != nil {
			return err
		}
	}
	return nil
}
