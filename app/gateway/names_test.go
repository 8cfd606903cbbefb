package gateway

import (
	"regexp"
	"strings"
	"testing"
)

var mcpName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

func TestNamer(t *testing.T) {
	n := &namer{taken: map[string]bool{}}
	t.Run("OKShortName", func(t *testing.T) {
		if got := n.name("plugboard/gotools", "gotools", "stream_text"); got != "gotools__stream_text" {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("OKSecondProviderOfTheNameGetsThePlugin", func(t *testing.T) {
		if got := n.name("acme/gotools", "gotools", "stream_text"); got != "acme_gotools__gotools__stream_text" {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("OKThirdGetsAHash", func(t *testing.T) {
		n.taken["zeta_gotools__gotools__stream_text"] = true
		a := n.name("zeta/gotools", "gotools", "stream_text")
		if !strings.HasPrefix(a, "gotools__stream_text_") || len(a) != len("gotools__stream_text_")+8 || !mcpName.MatchString(a) {
			t.Fatalf("got %q", a)
		}
	})
	t.Run("OKLongAndOddNamesFitMCPsRule", func(t *testing.T) {
		long := strings.Repeat("x", 80)
		a, b := n.name("a/b", "prov.ider", long+"1"), n.name("a/b", "prov.ider", long+"2")
		if a == b || !mcpName.MatchString(a) || !mcpName.MatchString(b) || !strings.HasPrefix(a, "prov_ider__xxx") {
			t.Fatalf("got %q and %q", a, b)
		}
	})
}
