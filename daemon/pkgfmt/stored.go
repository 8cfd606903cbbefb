package pkgfmt

import (
	"archive/zip"
	"bytes"
	"path"
)

// ReadStoredFile returns one file of the package file at file, which Decode
// accepted before, inflating only that file; ok is false when the package
// has no such file.
func ReadStoredFile(file, name string) (data []byte, ok bool, err error) {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return nil, false, err
	}
	defer zr.Close()
	want := path.Clean(name)
	for _, f := range zr.File {
		if n, err := cleanEntryName(f.Name); err != nil || n != want || f.Mode().IsDir() {
			continue
		}
		var buf bytes.Buffer
		if _, err := copyEntry(&buf, f); err != nil {
			return nil, false, err
		}
		return buf.Bytes(), true, nil
	}
	return nil, false, nil
}
