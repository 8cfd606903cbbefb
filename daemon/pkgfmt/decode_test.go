package pkgfmt_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io/fs"
	"strings"
	"testing"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

func TestDecode(t *testing.T) {
	t.Run("OKPython", func(t *testing.T) {
		p := MustDecode(t, MustZip(t, pythonFiles(), ""))
		m := p.Manifest
		if got := p.ID.String(); !strings.HasPrefix(got, "acme/weather_lookup:0.3.1@") || len(p.ID.Checksum) != 64 {
			t.Errorf("ID = %q", got)
		}
		if m.Verified {
			t.Error("Verified was read from the yaml")
		}
		if m.Category() != plugboard.CategoryTool || m.Meta.Runner.Language != plugboard.RunnerPython || m.Label["zh_Hans"] != "天气" {
			t.Errorf("manifest = %+v", m)
		}
		if p.Readme != "# Weather lookup\n" || p.Signed {
			t.Errorf("Readme = %q, Signed = %v", p.Readme, p.Signed)
		}
		tp := m.Tool
		if tp == nil || tp.Identity.Author != "Jane Q. Developer" || len(tp.Tools) != 1 {
			t.Fatalf("Tool = %+v", tp)
		}
		names := []string{}
		for _, c := range tp.Credentials {
			names = append(names, c.Name+":"+c.Type)
		}
		if got := strings.Join(names, ","); got != "endpoint:text-input,api_token:secret-input,units:select" {
			t.Errorf("credentials = %s", got)
		}
		params := tp.Tools[0].Parameters
		if len(params) != 2 || params[1].Name != "days" || *params[1].Max != 14 || params[1].Form != plugboard.FormForm {
			t.Errorf("parameters = %+v", params)
		}
		if icon, err := p.Asset("icon.svg"); err != nil || string(icon) != "<svg/>" {
			t.Errorf("Asset = %q, %v", icon, err)
		}
	})
	t.Run("OKBinary", func(t *testing.T) {
		p := MustDecode(t, MustZip(t, binaryFiles(), ""))
		m := p.Manifest
		if m.Version != "1.0" || m.Meta.Runner.Language != plugboard.RunnerBinary || p.Readme != "" {
			t.Errorf("version %q runner %q readme %q", m.Version, m.Meta.Runner.Language, p.Readme)
		}
		if got := m.Tool.ToolFiles; len(got) != 2 || got[1] != "tools/render.yaml" {
			t.Errorf("ToolFiles = %v", got)
		}
		if c := m.Tool.Credentials; len(c) != 1 || c[0].Name != "api_key" || !c[0].Required {
			t.Errorf("credentials = %+v", c)
		}
		if tools := m.Tool.Tools; tools[0].Parameters == nil || len(tools[1].Parameters[0].Options) != 2 {
			t.Errorf("tools = %+v", tools)
		}
	})
	t.Run("OKJSON", func(t *testing.T) {
		p := MustDecode(t, MustZip(t, pythonFiles(), ""))
		data, err := json.Marshal(p.Manifest)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`"verified":false`, `"credentials_schema":[`, `"name":"forecast"`} {
			if !bytes.Contains(data, []byte(want)) {
				t.Errorf("declaration JSON lacks %s: %s", want, data)
			}
		}
	})
	t.Run("OKCredentialsSchema", func(t *testing.T) {
		zf := binaryFiles().edit(t, "provider/gotools.yaml", "credentials_for_provider:", "credentials_schema:")
		p := MustDecode(t, MustZip(t, zf, ""))
		if len(p.Manifest.Tool.Credentials) != 1 {
			t.Errorf("credentials = %+v", p.Manifest.Tool.Credentials)
		}
	})
	t.Run("OKSigned", func(t *testing.T) {
		p := MustDecode(t, MustZip(t, binaryFiles(), `{"signature":"c2ln","time":1700000000}`))
		if !p.Signed {
			t.Error("Signed = false for a signature comment")
		}
	})
}

func TestDecodeBadZip(t *testing.T) {
	lim := pkgfmt.DefaultLimits()
	decode := func(zf files) error {
		_, err := pkgfmt.Decode(MustZip(t, zf, ""), lim)
		return err
	}
	t.Run("ErrMalformedZip", func(t *testing.T) {
		_, err := pkgfmt.Decode([]byte("PK\x03\x04 this is not a zip"), lim)
		MustReject(t, err, "", "", "not a valid zip file")
	})
	t.Run("ErrTruncatedZip", func(t *testing.T) {
		data := MustZip(t, pythonFiles(), "")
		_, err := pkgfmt.Decode(data[:len(data)-30], lim)
		MustReject(t, err, "", "", "not a valid zip file")
	})
	t.Run("ErrNoManifest", func(t *testing.T) {
		MustReject(t, decode(pythonFiles().without("manifest.yaml")), "manifest.yaml", "", "no manifest.yaml")
	})
	t.Run("ErrPackageTooLarge", func(t *testing.T) {
		small := lim
		small.MaxPackage = 512
		_, err := pkgfmt.Decode(MustZip(t, pythonFiles(), ""), small)
		MustReject(t, err, "", "", "over the limit of 512 bytes")
	})
	t.Run("ErrUncompressedTooLarge", func(t *testing.T) {
		small := lim
		small.MaxUncompressed = 2000
		_, err := pkgfmt.Decode(MustZip(t, pythonFiles(), ""), small)
		MustReject(t, err, "", "", "more than the limit of 2000 bytes")
	})
	t.Run("ErrTooManyEntries", func(t *testing.T) {
		small := lim
		small.MaxEntries = 5
		_, err := pkgfmt.Decode(MustZip(t, pythonFiles(), ""), small)
		MustReject(t, err, "", "", "10 entries, over the limit of 5")
	})
	t.Run("ErrZipBomb", func(t *testing.T) {
		zf := pythonFiles().with("data.bin", strings.Repeat("\x00", 1<<20))
		MustReject(t, decode(zf), "data.bin", "", "compression ratio")
	})
	t.Run("ErrSizeMismatch", func(t *testing.T) {
		data := MustZip(t, pythonFiles(), "")
		MustReject(t, decodeErr(t, lieAboutSize(t, data, "main.py")), "main.py", "", "cannot read entry")
	})
	unsafe := []struct{ name, entry, why string }{
		{"ErrZipSlip", "../x", `".." in path`},
		{"ErrZipSlipInside", "tools/../../x", `".." in path`},
		{"ErrAbsolutePath", "/etc/passwd", "absolute path"},
		{"ErrBackslash", `..\evil.py`, "backslash"},
		{"ErrDriveLetter", "C:/evil.py", "drive letter"},
	}
	for _, c := range unsafe {
		t.Run(c.name, func(t *testing.T) {
			MustReject(t, decode(pythonFiles().with(c.entry, "x")), c.entry, "", c.why)
		})
	}
	t.Run("ErrSymlink", func(t *testing.T) {
		zf := append(pythonFiles(), zfile{name: "link", body: "/etc/passwd", mode: 0o777 | fs.ModeSymlink})
		MustReject(t, decode(zf), "link", "", "symbolic links")
	})
	t.Run("ErrDuplicateEntry", func(t *testing.T) {
		zf := append(pythonFiles(), zfile{name: "main.py", body: "evil"})
		MustReject(t, decode(zf), "main.py", "", "duplicate entry")
	})
	t.Run("ErrDuplicateCleanedPath", func(t *testing.T) {
		zf := append(pythonFiles(), zfile{name: "tools/./forecast.py", body: "evil"})
		MustReject(t, decode(zf), "tools/./forecast.py", "", `"tools/forecast.py" appears more than once`)
	})
	t.Run("ErrFileUsedAsDir", func(t *testing.T) {
		zf := append(pythonFiles(), zfile{name: "main.py/x", body: "x"})
		MustReject(t, decode(zf), "main.py/x", "", "is a file but is used as a directory")
	})
}

// decodeErr decodes data with the default limits and returns the error.
func decodeErr(tb testing.TB, data []byte) error {
	tb.Helper()
	_, err := pkgfmt.Decode(data, pkgfmt.DefaultLimits())
	return err
}

// lieAboutSize rewrites the declared uncompressed size of entry in the
// central directory to one byte less than the truth.
func lieAboutSize(tb testing.TB, data []byte, entry string) []byte {
	tb.Helper()
	out := append([]byte(nil), data...)
	sig := []byte("PK\x01\x02")
	for i := bytes.Index(out, sig); i >= 0; {
		nameLen := int(binary.LittleEndian.Uint16(out[i+28:]))
		if string(out[i+46:i+46+nameLen]) == entry {
			size := binary.LittleEndian.Uint32(out[i+24:])
			binary.LittleEndian.PutUint32(out[i+24:], size-1)
			return out
		}
		next := bytes.Index(out[i+4:], sig)
		if next < 0 {
			break
		}
		i += 4 + next
	}
	tb.Fatalf("entry %s not found", entry)
	return nil
}
