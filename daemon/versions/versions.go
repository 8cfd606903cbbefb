// Package versions orders plugin versions: Dify's manifest versions (0.0.1,
// 1.2.3, up to four numeric parts, an optional pre-release) and release tags
// that spell them with a leading v (v1.2.3). It is the one ordering the
// daemon, the admin app and the views use, built on golang.org/x/mod/semver
// so that pre-releases and build metadata follow Semantic Versioning.
package versions

import (
	"cmp"
	"strconv"
	"strings"

	"golang.org/x/mod/semver"
)

// Compare orders a and b: -1, 0 or +1. A leading v (or V) is ignored, a
// missing part counts as 0 (1.0 = 1.0.0), a pre-release sorts before its
// release (1.0.0-beta < 1.0.0), build metadata (+…) is ignored, and a string
// that is not a version sorts before every version.
func Compare(a, b string) int {
	x, y := parse(a), parse(b)
	if c := semver.Compare(x.core, y.core); c != 0 {
		return c
	}
	if c := cmp.Compare(x.fourth, y.fourth); c != 0 {
		return c
	}
	return semver.Compare(x.full, y.full)
}

// Prerelease reports whether v is a pre-release (1.0.0-beta).
func Prerelease(v string) bool { return semver.Prerelease(parse(v).full) != "" }

// MajorMinor is the "major.minor" of v (1.2 for 1.2.3), "" when v is not a
// version.
func MajorMinor(v string) string {
	return strings.TrimPrefix(semver.MajorMinor(parse(v).core), "v")
}

// version is a version as semver reads it: core is vMAJOR.MINOR.PATCH,
// full adds the pre-release and build, fourth is Dify's optional fourth
// numeric part (which semver has no place for).
type version struct {
	core, full string
	fourth     int
}

// parse splits v into its semver forms.
func parse(v string) version {
	v = strings.TrimPrefix(strings.TrimPrefix(v, "v"), "V")
	num, suffix := v, ""
	if i := strings.IndexAny(v, "-+"); i >= 0 {
		num, suffix = v[:i], v[i:]
	}
	parts := strings.Split(num, ".")
	fourth := 0
	if len(parts) == 4 {
		n, err := strconv.Atoi(parts[3])
		if err != nil {
			return version{core: "invalid", full: "invalid"}
		}
		parts, fourth = parts[:3], n
	}
	core := "v" + strings.Join(parts, ".")
	return version{core: semver.Canonical(core), full: core + suffix, fourth: fourth}
}
