package pkgfmt

import (
	"path"
	"strings"
)

// ignoreFile lists, gitignore-style, the files Pack leaves out.
const ignoreFile = ".difyignore"

// ignoreRule is one line of a .difyignore file.
type ignoreRule struct {
	parts    []string // the pattern split on "/"
	anchored bool     // matched from the root, not against any trailing part
	dirOnly  bool     // the pattern ended with "/"
	negate   bool     // the pattern started with "!"
}

// ignoreRules is a parsed .difyignore; later rules win, as in git.
type ignoreRules []ignoreRule

// parseIgnore parses .difyignore text: globs (*, ?, [..], **), "dir/" for
// directories only, "/x" or "a/b" anchored at the root, "!" to re-include,
// "#" comments and blank lines.
func parseIgnore(text string) ignoreRules {
	var rules ignoreRules
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, " \t\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var r ignoreRule
		if strings.HasPrefix(line, "!") {
			r.negate, line = true, line[1:]
		}
		if strings.HasSuffix(line, "/") {
			r.dirOnly, line = true, strings.TrimRight(line, "/")
		}
		r.anchored = strings.Contains(line, "/")
		line = strings.TrimPrefix(line, "/")
		if line == "" {
			continue
		}
		r.parts = strings.Split(line, "/")
		rules = append(rules, r)
	}
	return rules
}

// ignored reports whether the slash path p (a directory when isDir) is
// excluded by the rules.
func (rs ignoreRules) ignored(p string, isDir bool) bool {
	ignored := false
	segs := strings.Split(p, "/")
	for _, r := range rs {
		if r.dirOnly && !isDir {
			continue
		}
		if r.matches(segs) {
			ignored = !r.negate
		}
	}
	return ignored
}

// matches reports whether the rule matches the path's segments.
func (r ignoreRule) matches(segs []string) bool {
	if r.anchored {
		return matchParts(r.parts, segs)
	}
	return matchParts(r.parts, segs[len(segs)-1:])
}

// matchParts matches glob parts against path segments; "**" matches any
// number of segments.
func matchParts(parts, segs []string) bool {
	if len(parts) == 0 {
		return len(segs) == 0
	}
	if parts[0] == "**" {
		for i := 0; i <= len(segs); i++ {
			if matchParts(parts[1:], segs[i:]) {
				return true
			}
		}
		return false
	}
	if len(segs) == 0 {
		return false
	}
	ok, err := path.Match(parts[0], segs[0])
	return err == nil && ok && matchParts(parts[1:], segs[1:])
}
