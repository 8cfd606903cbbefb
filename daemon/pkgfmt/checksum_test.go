package pkgfmt_test

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"testing"

	"github.com/plugboard/plugboard/daemon/errs"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
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

func TestParseIdentifier(t *testing.T) {
	sum := "9a4eae17bedc11c9476b45ad28aacab3d4e718d8efa9f30abeee30f41e0db591"
	t.Run("OK", func(t *testing.T) {
		id, err := pkgfmt.ParseIdentifier("acme/weather_lookup:0.3.1-beta@" + sum)
		want := pkgfmt.Identifier{Author: "acme", Name: "weather_lookup", Version: "0.3.1-beta", Checksum: sum}
		if err != nil || id != want {
			t.Fatalf("ParseIdentifier = %+v, %v", id, err)
		}
		if id.String() != "acme/weather_lookup:0.3.1-beta@"+sum || id.PluginID() != "acme/weather_lookup" {
			t.Errorf("String = %s, PluginID = %s", id, id.PluginID())
		}
	})
	t.Run("OKRoundTrip", func(t *testing.T) {
		p := MustDecode(t, MustZip(t, binaryFiles(), ""))
		id, err := pkgfmt.ParseIdentifier(p.ID.String())
		if err != nil || id != p.ID {
			t.Errorf("ParseIdentifier(%s) = %+v, %v", p.ID, id, err)
		}
	})
	for name, s := range map[string]string{
		"ErrNoChecksum":  "acme/x:1.0.0",
		"ErrUpperAuthor": "Acme/x:1.0.0@" + sum,
		"ErrBadVersion":  "acme/x:v1@" + sum,
		"ErrShortSum":    "acme/x:1.0.0@abc",
		"ErrTrailing":    "acme/x:1.0.0@" + sum + " ",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := pkgfmt.ParseIdentifier(s); errs.Code(err) != errs.Invalid {
				t.Errorf("ParseIdentifier(%q) err = %v, want code invalid", s, err)
			}
		})
	}
}
