package sandbox

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestOutermost(t *testing.T) {
	needed := []string{"/data/daemon/plugins/a", "/tmp/p", "/root/.pyenv/versions/3.11.7"}
	for _, tc := range []struct {
		name   string
		covers []string
		want   []string
	}{
		{"OKNested", []string{"/data/daemon", "/data", "/root"}, []string{"/data", "/root"}},
		{"OKDuplicates", []string{"/data", "/data/"}, []string{"/data"}},
		{"OKNeededStaysVisible", []string{"/tmp/p", "/data/daemon/plugins/a/x"}, nil},
		{"OKSystemStaysVisible", []string{"/", "/usr/local"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := outermost(tc.covers, needed); !slices.Equal(got, tc.want) {
				t.Errorf("outermost(%q) = %q, want %q", tc.covers, got, tc.want)
			}
		})
	}
}

func TestBlockedAncestor(t *testing.T) {
	base, err := os.MkdirTemp("", "blocked-") // 0700, in a world-searchable /tmp
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	file := filepath.Join(base, "open", "deep", "file")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := blockedAncestor(file); got != base {
		t.Errorf("blockedAncestor = %q, want %q (the 0700 dir)", got, base)
	}
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	if got := blockedAncestor(file); got != "" {
		t.Errorf("blockedAncestor = %q, want none", got)
	}
}
