package plugboard

import (
	"regexp"
	"strings"
)

// Identifier is a package's unique identifier author/name:version@checksum.
type Identifier struct {
	Author, Name, Version, Checksum string
}

// String formats the identifier.
func (id Identifier) String() string {
	return id.Author + "/" + id.Name + ":" + id.Version + "@" + id.Checksum
}

// PluginID is author/name.
func (id Identifier) PluginID() string { return id.Author + "/" + id.Name }

// identifierRe is Dify's PluginUniqueIdentifier pattern.
var identifierRe = regexp.MustCompile(`^(?:([a-z0-9_-]{1,64})\/)?([a-z0-9_-]{1,255}):(\d{1,4}(?:\.\d{1,4}){1,3}(?:-\w{1,16})?)@([a-f0-9]{32,64})$`)

// ParseIdentifier parses author/name:version@checksum; an error is EINVALID.
// As in Dify, the author part is optional.
func ParseIdentifier(s string) (Identifier, error) {
	m := identifierRe.FindStringSubmatch(s)
	if m == nil {
		return Identifier{}, Errorf(EINVALID, "invalid plugin identifier %q (want author/name:version@checksum)", s)
	}
	return Identifier{Author: m[1], Name: m[2], Version: m[3], Checksum: m[4]}, nil
}

// ValidPluginID reports whether id is a plugin id as Dify writes it:
// author/name, matching ^[a-z0-9_-]{1,64}/[a-z0-9_-]{1,255}$.
func ValidPluginID(id string) bool {
	author, name, ok := strings.Cut(id, "/")
	return ok && len(author) <= 64 && len(name) <= 255 && lowerName(author) && lowerName(name)
}

// lowerName reports whether s is non-empty and only [a-z0-9_-].
func lowerName(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; !(b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '_' || b == '-') {
			return false
		}
	}
	return s != ""
}
