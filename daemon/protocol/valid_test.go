package protocol_test

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/daemon/protocol"
)

// validCases are values encoding/json accepts and refuses, at the edges
// of JSON's grammar.
var validCases = []string{
	``, ` `, `{}`, ` { } `, `[]`, `[ ]`, `null`, `true`, `false`, `nul`, `truex`, `nulll`, `True`,
	`0`, `-0`, `01`, `-`, `1.`, `1.5`, `.5`, `1e5`, `1E+5`, `1e-5`, `1e`, `1e+`, `-1.25e-3`, `1.5.5`, `00`, `-01`, `+1`,
	`"a"`, `"`, `"\"`, `"\\"`, `"\/"`, `"\b\f\n\r\t"`, `"\u00e9"`, `"\u00E"`, `"\u00eg"`, `"\x"`, "\"\x01\"", "\"\x1f\"",
	"\"\x7f\"", "\"\xff\xfe\"", "\"é\"", `"\ud800"`,
	`{"a":1}`, `{"a":1,}`, `{"a" : 1 , "b" : [1, 2, {"c": null}]}`, `{a:1}`, `{"a"}`, `{"a":}`, `{"a":1 "b":2}`,
	`{,}`, `[1,]`, `[,1]`, `[1 2]`, `[[[]]]`, `[[[]]`, `]`, `}`, `{"a":1}}`, `{"a":1} x`, `1 2`, "\t\r\n{}\n",
	`{"event":"session","session_id":"s","data":{"type":"stream","data":{"model":"m","delta":{"index":0,"message":{"role":"assistant","content":"hi"}}}}}`,
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000), strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001),
}

func TestValidAsEncodingJSON(t *testing.T) {
	for _, c := range validCases {
		if got, want := protocol.Valid([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("Valid(%.60q) = %v, encoding/json says %v", c, got, want)
		}
	}
}

// TestValidMutations compares Valid with encoding/json on many random
// edits of valid lines: bytes changed, dropped, doubled or cut off.
func TestValidMutations(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("{}[]\",:\\ \t\n0123456789-+.eEtrufalsnu\x00\x1f\x7f\xc3\xa9abcdef")
	for _, seed := range validCases {
		if !json.Valid([]byte(seed)) || len(seed) > 1000 {
			continue
		}
		for range 3000 {
			b := []byte(seed)
			for range 1 + r.IntN(3) {
				switch k := r.IntN(4); {
				case len(b) == 0:
					b = append(b, alphabet[r.IntN(len(alphabet))])
				case k == 0:
					b[r.IntN(len(b))] = alphabet[r.IntN(len(alphabet))]
				case k == 1:
					i := r.IntN(len(b))
					b = append(b[:i:i], b[i+1:]...)
				case k == 2:
					i := r.IntN(len(b))
					b = append(b[:i+1:i+1], b[i:]...)
				default:
					b = b[:r.IntN(len(b))]
				}
			}
			if got, want := protocol.Valid(b), json.Valid(b); got != want {
				t.Fatalf("Valid(%q) = %v, encoding/json says %v", b, got, want)
			}
		}
	}
}

func FuzzValid(f *testing.F) {
	for _, c := range validCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := protocol.Valid(b), json.Valid(b); got != want {
			t.Fatalf("Valid(%q) = %v, encoding/json says %v", b, got, want)
		}
	})
}

// BenchmarkValid compares Valid with encoding/json.Valid on a streamed
// chunk's line as Dify's Python SDK writes it.
func BenchmarkValid(b *testing.B) {
	line := []byte(`{"event":"session","session_id":"0123456789abcdef0123456789abcdef","data":{"type":"stream","data":` +
		`{"model":"echo","prompt_messages":[],"system_fingerprint":null,"delta":{"index":12,"message":` +
		`{"role":"assistant","content":" token","name":null,"tool_calls":[]},"usage":null,"finish_reason":null}}}}`)
	b.Run("Valid", func(b *testing.B) {
		for b.Loop() {
			protocol.Valid(line)
		}
	})
	b.Run("EncodingJSON", func(b *testing.B) {
		for b.Loop() {
			json.Valid(line)
		}
	})
}
