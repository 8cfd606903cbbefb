package pkgfmt_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

// TestOfficialShapes packs each plugin under testdata/official (small
// excerpts of Dify's official plugins, see its README) and checks that it is
// accepted, that the warnings expected are given (and no others), and that
// the declaration holds what Dify's daemon gives for it.
//
// A case's expectations are in <case>.want, one per line:
//
//	json <fragment>   the declaration's JSON contains the fragment
//	nojson <fragment> it does not
//	warn <text>       a warning contains the text
func TestOfficialShapes(t *testing.T) {
	dirs, err := filepath.Glob("testdata/official/*/manifest.yaml")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases under testdata/official (%v)", err)
	}
	for _, m := range dirs {
		dir := filepath.Dir(m)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			_, p, err := pkgfmt.Pack(os.DirFS(dir), pkgfmt.DefaultLimits())
			if err != nil {
				t.Fatalf("Dify accepts this plugin; Pack refused it: %v", err)
			}
			checkOfficial(t, p, dir+".want")
		})
	}
}

// checkOfficial checks a decoded case against its .want file.
func checkOfficial(t *testing.T, p *pkgfmt.Package, wantFile string) {
	t.Helper()
	f, err := os.Open(wantFile)
	if err != nil {
		t.Fatalf("every case needs its expectations: %v", err)
	}
	defer f.Close()
	decl := mustJSON(t, p.Manifest)
	warned := map[int]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		kind, arg, _ := strings.Cut(sc.Text(), " ")
		switch kind {
		case "json":
			if !strings.Contains(decl, arg) {
				t.Errorf("declaration lacks %s\n%s", arg, decl)
			}
		case "nojson":
			if strings.Contains(decl, arg) {
				t.Errorf("declaration has %s\n%s", arg, decl)
			}
		case "warn":
			i := warningIndex(p.Warnings, arg)
			if i < 0 {
				t.Errorf("no warning says %q; warnings: %v", arg, p.Warnings)
			}
			warned[i] = true
		case "", "#":
		default:
			t.Fatalf("%s: unknown expectation %q", wantFile, kind)
		}
	}
	for i, w := range p.Warnings {
		if !warned[i] {
			t.Errorf("unexpected warning: %s", w)
		}
	}
	if !json.Valid([]byte(decl)) {
		t.Errorf("declaration is not valid JSON")
	}
}

// warningIndex returns the index of the first warning that says text, or -1.
func warningIndex(ws []plugboard.Warning, text string) int {
	for i, w := range ws {
		if strings.Contains(w.String(), text) {
			return i
		}
	}
	return -1
}
