package secret

import (
	"bytes"
	"cmp"
	"slices"
	"strings"
)

// Redacted is what a redacted secret value reads as.
const Redacted = "[redacted]"

// minRedacted is the shortest value a Redactor hides: shorter ones would
// blank out ordinary text and protect nothing.
const minRedacted = 4

// Redactor hides known secret values (a credential's secret fields, secret
// parameters) in what a tool sent back. Text streamed in chunks goes
// through Stream, which holds back a chunk's end while it could be the start
// of a secret, so a secret split across chunks is hidden too. A Redactor
// serves one stream; it is not safe for concurrent use.
type Redactor struct {
	secrets  []string // longest first
	replacer *strings.Replacer
	held     string // streamed text that may begin a secret
}

// NewRedactor returns a Redactor of values (empty and very short ones
// ignored).
func NewRedactor(values ...string) *Redactor {
	var secrets []string
	for _, v := range values {
		if len(v) >= minRedacted && !slices.Contains(secrets, v) {
			secrets = append(secrets, v)
		}
	}
	// Longest first, so a secret that contains another is hidden whole.
	slices.SortFunc(secrets, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	pairs := make([]string, 0, 2*len(secrets))
	for _, s := range secrets {
		pairs = append(pairs, s, Redacted)
	}
	return &Redactor{secrets: secrets, replacer: strings.NewReplacer(pairs...)}
}

// String returns s with every secret replaced by Redacted.
func (r *Redactor) String(s string) string {
	if len(r.secrets) == 0 {
		return s
	}
	return r.replacer.Replace(s)
}

// Bytes returns b with every secret replaced (b itself when it holds none).
func (r *Redactor) Bytes(b []byte) []byte {
	for _, s := range r.secrets {
		if bytes.Contains(b, []byte(s)) {
			b = bytes.ReplaceAll(b, []byte(s), []byte(Redacted))
		}
	}
	return b
}

// Value redacts a decoded JSON value: strings, object keys, and every
// value nested in objects and arrays.
func (r *Redactor) Value(v any) any {
	switch v := v.(type) {
	case string:
		return r.String(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[r.String(k)] = r.Value(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = r.Value(e)
		}
		return out
	}
	return v
}

// Stream redacts the next chunk of streamed text and returns what can be
// shown now; the end that could begin a secret is held for the next chunk
// (or Flush).
func (r *Redactor) Stream(chunk string) string {
	if len(r.secrets) == 0 {
		return chunk
	}
	s := r.String(r.held + chunk)
	keep := r.partialSuffix(s)
	r.held = s[len(s)-keep:]
	return s[:len(s)-keep]
}

// Flush returns the streamed text still held back.
func (r *Redactor) Flush() string {
	s := r.held
	r.held = ""
	return s
}

// partialSuffix is the length of the longest end of s that is a proper
// start of a secret.
func (r *Redactor) partialSuffix(s string) int {
	best := 0
	for _, sec := range r.secrets {
		for k := min(len(s), len(sec)-1); k > best; k-- {
			if strings.HasSuffix(s, sec[:k]) {
				best = k
				break
			}
		}
	}
	return best
}
