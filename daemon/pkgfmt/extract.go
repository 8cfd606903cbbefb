package pkgfmt

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/plugboard/plugboard"
)

// Extract writes the package's files under dir (which must not exist yet),
// keeping executable bits. The files are written into a temporary sibling
// directory that is renamed into place, so a failure leaves nothing behind.
func (p *Package) Extract(dir string) error {
	err := extractInto(dir, p.writeFiles)
	if err != nil && plugboard.ErrorCode(err) == plugboard.EINTERNAL {
		return fmt.Errorf("extract package %s: %w", p.ID, err)
	}
	return err
}

// DecodeInto is Decode that also extracts the package under dir (which must
// not exist yet) as Extract does, in the same pass over the zip: each file
// is inflated once. When the package is refused, nothing is left under dir.
func DecodeInto(data []byte, lim Limits, dir string) (*Package, error) {
	var pkg *Package
	err := extractInto(dir, func(root *os.Root) error {
		var err error
		pkg, err = decode(data, lim, root)
		return err
	})
	switch {
	case err == nil:
		return pkg, nil
	case plugboard.ErrorCode(err) != plugboard.EINTERNAL:
		return nil, err // the package is refused, or dir is taken
	default:
		return nil, fmt.Errorf("extract package: %w", err)
	}
}

// extractInto runs write on a temporary sibling directory of dir (which
// must not exist yet) and renames it into place when write succeeds.
func extractInto(dir string, write func(root *os.Root) error) error {
	if _, err := os.Lstat(dir); err == nil {
		return plugboard.Errorf(plugboard.ECONFLICT, "cannot extract into %s: it already exists", dir)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return err
	}
	err = os.Chmod(tmp, 0o755)
	var root *os.Root
	if err == nil {
		root, err = os.OpenRoot(tmp)
	}
	if err == nil {
		err = write(root)
		root.Close()
	}
	if err == nil {
		err = os.Rename(tmp, dir)
	}
	if err != nil {
		os.RemoveAll(tmp)
	}
	return err
}

// writeFiles writes every file of the package under root, confined to it.
func (p *Package) writeFiles(root *os.Root) error {
	for i := range p.files {
		e := &p.files[i]
		f, err := createEntryFile(root, e)
		if err != nil {
			return err
		}
		if e.data != nil || e.f == nil {
			_, err = f.Write(e.data)
		} else {
			_, err = copyEntry(f, e.f)
		}
		if err == nil {
			err = closeEntryFile(root, e, f)
		}
		if err != nil {
			f.Close()
			return err
		}
	}
	return nil
}

// createEntryFile creates e's file (and its folders) under root.
func createEntryFile(root *os.Root, e *entry) (*os.File, error) {
	if d := path.Dir(e.path); d != "." {
		if err := root.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	return root.OpenFile(e.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, e.mode)
}

// closeEntryFile closes e's written file and gives it e's mode, which the
// umask may have narrowed.
func closeEntryFile(root *os.Root, e *entry, f *os.File) error {
	if err := f.Close(); err != nil {
		return err
	}
	return root.Chmod(e.path, e.mode)
}
