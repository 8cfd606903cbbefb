package install

import (
	"github.com/plugboard/plugboard/app/github"
	"github.com/plugboard/plugboard/daemon/versions"
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
		if len(r.Packages()) > 0 && versions.Compare(r.Tag, version) > 0 {
			out = append(out, r)
		}
	}
	return out
}
