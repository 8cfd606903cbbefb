package pkgfmt

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

// ratioFloor is the entry size below which the compression ratio is not
// checked: tiny files compress oddly and cannot make a bomb.
const ratioFloor = 1 << 10

// entry is one file of a package, read and checked.
type entry struct {
	path string
	mode fs.FileMode // permission bits of the file (0644 or 0755)
	sum  [sha256.Size]byte
	// data is the content of a file up to holdLimit bytes; a larger one
	// (a plugin's executable, a wheel) is inflated again from f when read,
	// so a decoded package holds little more than its zip.
	data []byte
	f    *zip.File
}

// holdLimit is the largest file a decoded package keeps inflated in memory:
// declarations, READMEs and icons are far smaller.
const holdLimit = 256 << 10

// content returns the entry's content, inflating it again when not held.
func (e *entry) content() ([]byte, error) {
	if e.data != nil || e.f == nil {
		return e.data, nil
	}
	var buf bytes.Buffer
	buf.Grow(int(e.f.UncompressedSize64))
	if _, err := copyEntry(&buf, e.f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// zipProblem words why data is not a readable zip: once, without the
// archive/zip prefix ("zip: not a valid zip file" would say it twice).
func zipProblem(err error) string {
	if errors.Is(err, zip.ErrFormat) {
		return "not a valid zip file (a .difypkg package is a zip archive)"
	}
	return "not a valid zip file: " + strings.TrimPrefix(err.Error(), "zip: ")
}

// readZip opens the zip held in data and reads every file within lim,
// rejecting unsafe paths, links, duplicates and bombs (before any content
// is read); when out is not nil, every file is also written under out.
func readZip(data []byte, lim Limits, out *os.Root) ([]entry, *zip.Reader, error) {
	if lim.MaxPackage > 0 && int64(len(data)) > lim.MaxPackage {
		return nil, nil, &Error{Msg: fmt.Sprintf("package is %d bytes, over the limit of %d bytes", len(data), lim.MaxPackage)}
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, nil, &Error{Msg: zipProblem(err)}
	}
	if err := checkHeaders(zr.File, lim); err != nil {
		return nil, nil, err
	}
	entries, err := readEntries(zr.File, lim, out)
	if err != nil {
		return nil, nil, err
	}
	return entries, zr, nil
}

// checkHeaders applies every check that needs only the zip's directory.
func checkHeaders(files []*zip.File, lim Limits) error {
	if lim.MaxEntries > 0 && len(files) > lim.MaxEntries {
		return &Error{Msg: fmt.Sprintf("package has %d entries, over the limit of %d", len(files), lim.MaxEntries)}
	}
	var total uint64
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		total += f.UncompressedSize64
		if lim.MaxUncompressed > 0 && total > uint64(lim.MaxUncompressed) {
			return &Error{Msg: fmt.Sprintf("package uncompresses to more than the limit of %d bytes", lim.MaxUncompressed)}
		}
		if err := checkEntry(f, lim, seen); err != nil {
			return err
		}
	}
	return checkFileDirClash(seen)
}

// checkEntry checks one entry's name, type and compression ratio, and that
// its cleaned path was not seen before.
func checkEntry(f *zip.File, lim Limits, seen map[string]bool) error {
	name, err := cleanEntryName(f.Name)
	if err != nil {
		return err
	}
	mode := f.Mode()
	if mode&fs.ModeSymlink != 0 {
		return &Error{File: f.Name, Msg: "symbolic links are not allowed in a package"}
	}
	if mode&(fs.ModeType&^fs.ModeDir) != 0 {
		return &Error{File: f.Name, Msg: fmt.Sprintf("only regular files and directories are allowed, not %v", mode.Type())}
	}
	if _, dup := seen[name]; dup {
		return &Error{File: f.Name, Msg: fmt.Sprintf("duplicate entry: %q appears more than once", name)}
	}
	seen[name] = mode.IsDir()
	return checkRatio(f, lim)
}

// checkRatio rejects an entry that expands beyond lim.MaxRatio (a zip bomb).
func checkRatio(f *zip.File, lim Limits) error {
	if lim.MaxRatio <= 0 || f.UncompressedSize64 <= ratioFloor {
		return nil
	}
	if f.CompressedSize64 == 0 || f.UncompressedSize64/f.CompressedSize64 > uint64(lim.MaxRatio) {
		return &Error{File: f.Name, Msg: fmt.Sprintf("compression ratio of %d bytes from %d is over the limit of %d:1",
			f.UncompressedSize64, f.CompressedSize64, lim.MaxRatio)}
	}
	return nil
}

// cleanEntryName validates an entry name and returns its cleaned, relative
// slash path; a directory's trailing slash is dropped.
func cleanEntryName(name string) (string, error) {
	bad := func(why string) error { return &Error{File: name, Msg: "unsafe path: " + why} }
	switch {
	case name == "" || strings.Trim(name, "/") == "":
		return "", bad("empty name")
	case strings.Contains(name, `\`):
		return "", bad("backslash in path")
	case strings.ContainsRune(name, 0):
		return "", bad("NUL byte in path")
	case strings.HasPrefix(name, "/"):
		return "", bad("absolute path")
	case len(name) >= 2 && name[1] == ':':
		return "", bad("drive letter in path")
	}
	for _, seg := range strings.Split(strings.TrimSuffix(name, "/"), "/") {
		if seg == ".." {
			return "", bad(`".." in path`)
		}
	}
	clean := path.Clean(name)
	if clean == "." || !fs.ValidPath(clean) {
		return "", bad("not a valid relative path")
	}
	return clean, nil
}

// checkFileDirClash rejects a path used both as a file and as a directory
// ("a" a file and "a/b" another).
func checkFileDirClash(seen map[string]bool) error {
	for p := range seen {
		for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
			if isDir, ok := seen[dir]; ok && !isDir {
				return &Error{File: p, Msg: fmt.Sprintf("%q is a file but is used as a directory", dir)}
			}
		}
	}
	return nil
}

// readEntries reads every file's content once, hashing it, counting the
// bytes actually inflated against the declared sizes and lim.MaxUncompressed,
// and, when out is not nil, writing it under out.
func readEntries(files []*zip.File, lim Limits, out *os.Root) ([]entry, error) {
	var entries []entry
	var total int64
	for _, f := range files {
		if f.Mode().IsDir() {
			continue
		}
		name, _ := cleanEntryName(f.Name)
		e := entry{path: name, mode: fileMode(f.Mode()), f: f}
		n, err := readEntry(&e, out)
		if err != nil {
			return nil, err
		}
		total += n
		if lim.MaxUncompressed > 0 && total > lim.MaxUncompressed {
			return nil, &Error{Msg: fmt.Sprintf("package uncompresses to more than the limit of %d bytes", lim.MaxUncompressed)}
		}
		entries = append(entries, e)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].path < entries[j].path })
	return entries, nil
}

// readEntry inflates one file into its hash (and its held data, when small
// enough) and, when out is not nil, into its file under out; it returns the
// file's size.
func readEntry(e *entry, out *os.Root) (int64, error) {
	h := sha256.New()
	w := io.Writer(h)
	var held *bytes.Buffer
	if e.f.UncompressedSize64 <= holdLimit {
		held = bytes.NewBuffer(make([]byte, 0, e.f.UncompressedSize64))
		w = io.MultiWriter(h, held)
	}
	var file *os.File
	if out != nil {
		var err error
		if file, err = createEntryFile(out, e); err != nil {
			return 0, err
		}
		defer file.Close()
		w = io.MultiWriter(w, file)
	}
	n, err := copyEntry(w, e.f)
	if err != nil {
		return 0, err
	}
	if file != nil {
		if err := closeEntryFile(out, e, file); err != nil {
			return 0, err
		}
	}
	h.Sum(e.sum[:0])
	if held != nil {
		e.data = held.Bytes()
	}
	return n, nil
}

// copyEntry inflates f into w, refusing more or fewer bytes than its header
// declares; it returns how many it wrote.
func copyEntry(w io.Writer, f *zip.File) (int64, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, &Error{File: f.Name, Msg: "cannot read entry: " + strings.TrimPrefix(err.Error(), "zip: ")}
	}
	defer rc.Close()
	n, err := io.Copy(w, io.LimitReader(rc, int64(f.UncompressedSize64)+1))
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return 0, err // writing the extracted file failed, not reading the zip
	}
	if err != nil {
		return 0, &Error{File: f.Name, Msg: "cannot read entry: " + strings.TrimPrefix(err.Error(), "zip: ")}
	}
	if uint64(n) != f.UncompressedSize64 {
		return 0, &Error{File: f.Name, Msg: fmt.Sprintf("entry does not hold the %d bytes its header declares", f.UncompressedSize64)}
	}
	return n, nil
}

// fileMode keeps only whether a file is executable.
func fileMode(m fs.FileMode) fs.FileMode {
	if m&0o111 != 0 {
		return 0o755
	}
	return 0o644
}

// checksum is Dify's package checksum: sha256 over, for every file sorted by
// path, sha256(path) ‖ sha256(content). entries must be sorted.
func checksum(entries []entry) string {
	h := sha256.New()
	for _, e := range entries {
		p := sha256.Sum256([]byte(e.path))
		h.Write(p[:])
		h.Write(e.sum[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}
