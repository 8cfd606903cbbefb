// Package pkgfmt reads, validates and writes plugin packages in Dify's
// .difypkg format (a zip with manifest.yaml, provider and tool yaml, assets,
// README and code).
//
// CONTRACT STUB: the exported API below is fixed; bodies are being written.
package pkgfmt

import "io/fs"

// Limits bound what Decode accepts.
type Limits struct {
	MaxPackage      int64 // compressed bytes (15 MiB)
	MaxUncompressed int64 // total uncompressed bytes (50 MiB)
	MaxEntries      int   // zip entries (10,000)
	MaxRatio        int   // largest uncompressed/compressed ratio of one entry (100)
}

// DefaultLimits returns the default Limits.
func DefaultLimits() Limits {
	return Limits{MaxPackage: 15 << 20, MaxUncompressed: 50 << 20, MaxEntries: 10000, MaxRatio: 100}
}

// Identifier is a package's unique identifier author/name:version@checksum.
type Identifier struct {
	Author, Name, Version, Checksum string
}

// String formats the identifier.
func (id Identifier) String() string { return id.Author + "/" + id.Name + ":" + id.Version + "@" + id.Checksum }

// PluginID is author/name.
func (id Identifier) PluginID() string { return id.Author + "/" + id.Name }

// ParseIdentifier parses author/name:version@checksum; an error is errs.Invalid.
func ParseIdentifier(s string) (Identifier, error) { panic("not implemented") }

// Package is a decoded and validated package.
type Package struct {
	ID       Identifier
	Manifest *Manifest // with Tool filled in
	Readme   string
	Raw      []byte // the package file as uploaded
	Signed   bool   // a signature is present in the zip comment (not yet verified)
}

// Error is a rejection of a package: which file, which yaml field (and line,
// when known), and what is wrong. Its code (errs.Code) is errs.Invalid.
type Error struct {
	File  string
	Field string
	Line  int
	Msg   string
}

func (e *Error) Error() string { panic("not implemented") }

// Decode reads and validates a package held in memory.
func Decode(data []byte, lim Limits) (*Package, error) { panic("not implemented") }

// Extract writes the package's files under dir (which must not exist yet),
// keeping executable bits.
func (p *Package) Extract(dir string) error { panic("not implemented") }

// Asset returns a file under _assets/ by its name in the manifest.
func (p *Package) Asset(name string) ([]byte, error) { panic("not implemented") }

// Pack builds a package from a plugin's source directory, honouring
// .difyignore, validates it with Decode, and returns its bytes.
func Pack(dir fs.FS, lim Limits) ([]byte, *Package, error) { panic("not implemented") }
