package pkgfmt

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"sort"
	"time"
)

// packTime is the modification time of every entry Pack writes, so that the
// same sources always give the same bytes.
var packTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Pack builds a package from a plugin's source directory, honouring
// .difyignore, validates it with Decode, and returns its bytes.
func Pack(dir fs.FS, lim Limits) ([]byte, *Package, error) {
	return PackWith(dir, lim, PackOptions{})
}

// PackOptions adds to what Pack takes from a source directory.
type PackOptions struct {
	// Built holds a build's output (bin/<arch>/<entrypoint>, say), packed
	// in place of the source's files of the same paths or beside them;
	// .difyignore does not apply to it. The build stays out of the source
	// tree, so concurrent builds and packs of one plugin never meet.
	Built fs.FS
	// Skip leaves out more of the source than .difyignore does (a builder's
	// temporary files); it is given slash paths of files.
	Skip func(path string) bool
}

// PackWith is Pack with a build's output and extra exclusions.
func PackWith(dir fs.FS, lim Limits, opts PackOptions) ([]byte, *Package, error) {
	files, err := packFiles(dir, opts)
	if err != nil {
		return nil, nil, err
	}
	data, err := writeZip(files)
	if err != nil {
		return nil, nil, err
	}
	pkg, err := Decode(data, lim)
	if err != nil {
		return nil, nil, err
	}
	return data, pkg, nil
}

// packFiles maps each path to pack to the file system it is read from:
// the source's files, then the build's in their place or beside them.
func packFiles(dir fs.FS, opts PackOptions) (map[string]fs.FS, error) {
	paths, err := packPaths(dir, opts.Skip)
	if err != nil {
		return nil, err
	}
	files := make(map[string]fs.FS, len(paths))
	for _, p := range paths {
		files[p] = dir
	}
	if opts.Built == nil {
		return files, nil
	}
	built, err := packPaths(opts.Built, nil)
	if err != nil {
		return nil, fmt.Errorf("build output: %w", err)
	}
	for _, p := range built {
		files[p] = opts.Built
	}
	return files, nil
}

// packPaths lists the regular files to pack, in walk (sorted) order,
// leaving out .git, what .difyignore excludes and what skip says.
func packPaths(dir fs.FS, skip func(string) bool) ([]string, error) {
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
		case skip != nil && skip(p):
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

// writeZip writes the files, in path order, into a zip with fixed times
// and their executable bits.
func writeZip(files map[string]fs.FS) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range slices.Sorted(maps.Keys(files)) {
		if err := addFile(zw, files[p], p); err != nil {
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
