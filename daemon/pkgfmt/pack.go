package pkgfmt

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"time"
)

// packTime is the modification time of every entry Pack writes, so that the
// same sources always give the same bytes.
var packTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Pack builds a package from a plugin's source directory, honouring
// .difyignore, validates it with Decode, and returns its bytes.
func Pack(dir fs.FS, lim Limits) ([]byte, *Package, error) {
	paths, err := packPaths(dir)
	if err != nil {
		return nil, nil, err
	}
	data, err := writeZip(dir, paths)
	if err != nil {
		return nil, nil, err
	}
	pkg, err := Decode(data, lim)
	if err != nil {
		return nil, nil, err
	}
	return data, pkg, nil
}

// packPaths lists the regular files to pack, in walk (sorted) order,
// leaving out .git and what .difyignore excludes.
func packPaths(dir fs.FS) ([]string, error) {
	var rules ignoreRules
	if text, err := fs.ReadFile(dir, ignoreFile); err == nil {
		rules = parseIgnore(string(text))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", ignoreFile, err)
	}
	var paths []string
	err := fs.WalkDir(dir, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		if d.Name() == ".git" || rules.ignored(p, d.IsDir()) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		switch {
		case d.IsDir():
			return nil
		case !d.Type().IsRegular():
			return &Error{File: p, Msg: "only regular files can be packed (links and devices cannot); list it in .difyignore to leave it out"}
		}
		paths = append(paths, p)
		return nil
	})
	sort.Strings(paths)
	return paths, err
}

// writeZip writes the files at paths into a zip with fixed times and their
// executable bits.
func writeZip(dir fs.FS, paths []string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range paths {
		if err := addFile(zw, dir, p); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// addFile adds one file to the zip.
func addFile(zw *zip.Writer, dir fs.FS, p string) error {
	info, err := fs.Stat(dir, p)
	if err != nil {
		return err
	}
	data, err := fs.ReadFile(dir, p)
	if err != nil {
		return err
	}
	h := &zip.FileHeader{Name: p, Method: zip.Deflate, Modified: packTime}
	h.SetMode(fileMode(info.Mode()))
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}
