package secret_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/store/secret"
)

func TestRedactor(t *testing.T) {
	r := secret.NewRedactor("demo-s3cret-key", "", "ab", "s3cret")
	t.Run("OKString", func(t *testing.T) {
		got := r.String("key demo-s3cret-key and s3cret, ab stays")
		if got != "key [redacted] and [redacted], ab stays" {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("OKValue", func(t *testing.T) {
		got := r.Value(map[string]any{"api_key": "demo-s3cret-key", "nested": []any{"x s3cret", 3.0}, "s3cret": true})
		want := map[string]any{"api_key": "[redacted]", "nested": []any{"x [redacted]", 3.0}, "[redacted]": true}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("OKBytes", func(t *testing.T) {
		if got := string(r.Bytes([]byte("bin demo-s3cret-key bin"))); got != "bin [redacted] bin" {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("OKSplitAcrossChunks", func(t *testing.T) {
		s := secret.NewRedactor("demo-s3cret-key")
		var out strings.Builder
		for _, chunk := range []string{"Your key is ", "de", "mo-s3c", "ret-key", " and d", "emo is ", "fine"} {
			out.WriteString(s.Stream(chunk))
		}
		out.WriteString(s.Flush())
		if got := out.String(); got != "Your key is [redacted] and demo is fine" {
			t.Fatalf("got %q", got)
		}
	})
}
