package static_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/static"
)

// TestVendoredChecksums checks every vendored file against vendor/SHA256SUMS,
// and that every vendored script is listed there.
func TestVendoredChecksums(t *testing.T) {
	sums, err := static.FS.ReadFile("vendor/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(string(sums)))
	for sc.Scan() {
		want, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("malformed line %q", sc.Text())
		}
		data, err := static.FS.ReadFile("vendor/" + name)
		if err != nil {
			t.Fatal(err)
		}
		got := sha256.Sum256(data)
		if hex.EncodeToString(got[:]) != want {
			t.Errorf("%s: sha256 %x, SHA256SUMS says %s", name, got, want)
		}
		listed[name] = true
	}
	entries, err := static.FS.ReadDir("vendor")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".js") && !listed[e.Name()] {
			t.Errorf("%s is not in SHA256SUMS", e.Name())
		}
	}
	if len(listed) != 2 {
		t.Errorf("SHA256SUMS lists %d files, want htmx and htmx-ext-sse", len(listed))
	}
}
