package pkgfmt_test

import (
	"testing"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

// FuzzDecode checks that Decode never panics and that every rejection is an
// invalid-package error.
func FuzzDecode(f *testing.F) {
	f.Add(MustZip(f, binaryFiles(), ""))
	f.Add(MustZip(f, pythonFiles().without("manifest.yaml"), ""))
	f.Add([]byte("PK\x05\x06"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := pkgfmt.Decode(data, pkgfmt.DefaultLimits())
		if err != nil {
			if plugboard.ErrorCode(err) != plugboard.EINVALID {
				t.Fatalf("error %v has code %s", err, plugboard.ErrorCode(err))
			}
			return
		}
		if p.Manifest == nil || p.ID.Checksum == "" {
			t.Fatalf("accepted package without manifest or checksum: %+v", p)
		}
	})
}

// FuzzDecodeModels checks that a model plugin's provider yaml, model yaml
// and position file, whatever they hold, never make Decode panic, and that
// every rejection is an invalid-package error.
func FuzzDecodeModels(f *testing.F) {
	f.Add(modelProvider, chatModel, "- acme-chat\n")
	f.Add("provider: x\nmodels:\n  - model: m\n    model_type: llm\n    pricing: {input: 1e400}\n", "model: [", "{}")
	f.Add("models: {llm: {predefined: ['[']}}", "parameter_rules: [{name: t, use_template: top_k, min: x}]", "- [a]")
	f.Fuzz(func(t *testing.T, provider, model, position string) {
		zf := modelFiles().with("provider/acme.yaml", provider).
			with("models/llm/acme-chat.yaml", model).with("models/llm/_position.yaml", position)
		_, err := pkgfmt.Decode(MustZip(t, zf, ""), pkgfmt.DefaultLimits())
		if err != nil && plugboard.ErrorCode(err) != plugboard.EINVALID {
			t.Fatalf("error %v has code %s", err, plugboard.ErrorCode(err))
		}
	})
}
