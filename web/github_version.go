package web

import (
	"strconv"
	"strings"

	"github.com/plugboard/plugboard/web/github"
)

// newerReleases keeps the releases with a package that are newer than the
// installed one: listed before its tag (GitHub lists newest first), or,
// when the tag is gone, with a higher version than the installed version.
func newerReleases(rels []github.Release, tag, version string) []github.Release {
	var out []github.Release
	for _, r := range rels {
		if r.Tag == tag {
			return out
		}
		if len(r.Packages()) > 0 && compareVersions(r.Tag, version) > 0 {
			out = append(out, r)
		}
	}
	return out
}

// compareVersions compares dotted numeric versions ("v1.2.10" > "1.2.9"),
// ignoring a leading v and any pre-release or build suffix; -1, 0 or 1.
func compareVersions(a, b string) int {
	pa, pb := versionParts(a), versionParts(b)
	for i := 0; i < max(len(pa), len(pb)); i++ {
		x, y := at(pa, i), at(pb, i)
		switch {
		case x > y:
			return 1
		case x < y:
			return -1
		}
	}
	return 0
}

func versionParts(v string) []int {
	v = strings.TrimPrefix(strings.TrimPrefix(v, "v"), "V")
	if i := strings.IndexAny(v, "-+"); i >= 0 {
		v = v[:i]
	}
	var out []int
	for _, p := range strings.Split(v, ".") {
		n, _ := strconv.Atoi(p)
		out = append(out, n)
	}
	return out
}

func at(p []int, i int) int {
	if i < len(p) {
		return p[i]
	}
	return 0
}
