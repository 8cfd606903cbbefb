package versions_test

import (
	"testing"

	"github.com/plugboard/plugboard/daemon/versions"
)

func TestCompare(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1.10.0", "1.9.0", 1},
		{"0.0.1", "0.0.2", -1},
		{"1.0", "1.0.0", 0},
		{"2.0.0", "2.0.0", 0},
		{"1.2.3.4", "1.2.3", 1},
		{"1.2.3.10", "1.2.3.9", 1},
		{"1.2.4", "1.2.3.9", 1},
		{"1.0.0+build", "1.0.0", 0},
		{"1.0.0-alpha", "1.0.0-beta", -1},
		{"nonsense", "0.0.1", -1},
		// The two orderings this replaced disagreed on these: the
		// marketplace's read a leading v as 0 (v1.2.0 < 1.1.0), GitHub's
		// ignored pre-releases (1.0.0-beta = 1.0.0).
		{"v1.2.0", "1.1.0", 1},
		{"v1.2.10", "1.2.9", 1},
		{"V2.0.0", "v2.0.0", 0},
		{"1.0.0-beta", "1.0.0", -1},
		{"v1.0.0-rc.1", "1.0.0", -1},
		{"1.2.3.4-beta", "1.2.3.4", -1},
	} {
		if got := versions.Compare(c.a, c.b); got != c.want {
			t.Errorf("Compare(%s, %s) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := versions.Compare(c.b, c.a); got != -c.want {
			t.Errorf("Compare(%s, %s) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
}

func TestPrerelease(t *testing.T) {
	for v, want := range map[string]bool{"1.0.0-beta": true, "v1.0.0-rc.1": true, "1.0.0": false, "1.0.0+build": false, "1.2": false} {
		if got := versions.Prerelease(v); got != want {
			t.Errorf("Prerelease(%s) = %v, want %v", v, got, want)
		}
	}
}

func TestMajorMinor(t *testing.T) {
	for v, want := range map[string]string{"1.2.3": "1.2", "v0.3.1-beta": "0.3", "2": "2.0", "1.2.3.4": "1.2", "x": ""} {
		if got := versions.MajorMinor(v); got != want {
			t.Errorf("MajorMinor(%s) = %q, want %q", v, got, want)
		}
	}
}
