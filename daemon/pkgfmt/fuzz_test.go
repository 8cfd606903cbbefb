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
