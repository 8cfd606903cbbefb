package pkgfmt_test

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"testing"

	"github.com/plugboard/plugboard"
)

// difyChecksum computes the checksum from its definition: sha256 over, for
// every file sorted by path, sha256(path) ‖ sha256(content).
func difyChecksum(zf files) string {
	sorted := append(files(nil), zf...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	var all []byte
	for _, f := range sorted {
		p, c := sha256.Sum256([]byte(f.name)), sha256.Sum256([]byte(f.body))
		all = append(append(all, p[:]...), c[:]...)
	}
	sum := sha256.Sum256(all)
	return hex.EncodeToString(sum[:])
}

func TestChecksum(t *testing.T) {
	base := pythonFiles()
	sum := MustDecode(t, MustZip(t, base, "")).ID.Checksum
	t.Run("OKDefinition", func(t *testing.T) {
		if want := difyChecksum(base); sum != want {
			t.Errorf("checksum = %s, want %s", sum, want)
		}
	})
	t.Run("OKEntryOrderIgnored", func(t *testing.T) {
		reversed := files{}
		for i := len(base) - 1; i >= 0; i-- {
			reversed = append(reversed, base[i])
		}
		if got := MustDecode(t, MustZip(t, reversed, "")).ID.Checksum; got != sum {
			t.Errorf("checksum changed with entry order: %s", got)
		}
	})
	t.Run("OKCommentExcluded", func(t *testing.T) {
		p := MustDecode(t, MustZip(t, base, `{"signature":"c2ln","time":1}`))
		if p.ID.Checksum != sum {
			t.Errorf("checksum changed with the zip comment: %s", p.ID.Checksum)
		}
	})
	t.Run("OKEveryFileCounts", func(t *testing.T) {
		for _, f := range base {
			changed := base.with(f.name, f.body+"\n# changed\n")
			if got := MustDecode(t, MustZip(t, changed, "")).ID.Checksum; got == sum {
				t.Errorf("checksum did not change when %s changed", f.name)
			}
		}
	})
	t.Run("OKRenameCounts", func(t *testing.T) {
		renamed := base.without("main.py").with("main2.py", "print('hi')\n").with("main.py", "print('hi')\n")
		renamed = renamed.without("main2.py").with("extra.py", "")
		if got := MustDecode(t, MustZip(t, renamed, "")).ID.Checksum; got == sum {
			t.Error("checksum did not change when a file was added")
		}
	})
}

// TestIdentifierRoundTrip checks that a decoded package's identifier
// parses back to itself.
func TestIdentifierRoundTrip(t *testing.T) {
	p := MustDecode(t, MustZip(t, binaryFiles(), ""))
	id, err := plugboard.ParseIdentifier(p.ID.String())
	if err != nil || id != p.ID {
		t.Errorf("ParseIdentifier(%s) = %+v, %v", p.ID, id, err)
	}
}
