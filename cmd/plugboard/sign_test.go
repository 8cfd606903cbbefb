package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

// MustPytools packs the pytools example into dir and returns its path.
func MustPytools(tb testing.TB, dir string) string {
	tb.Helper()
	data, _, err := pkgfmt.Pack(os.DirFS(filepath.Join(MustRepoRoot(tb), "examples/plugins/pytools")), pkgfmt.DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(dir, "pytools.difypkg")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// MustKeyPair runs keys gen (2048 bits, for speed) in dir.
func MustKeyPair(t *testing.T, dir, name string) {
	t.Helper()
	if _, stderr, err := runCLI(t, dir, "keys", "gen", "--out", name, "--bits", "2048"); err != nil {
		t.Fatalf("keys gen: %v\n%s", err, stderr)
	}
}

// TestSignVerify generates keys, signs the pytools package and verifies
// it against the right key, another key and after tampering.
func TestSignVerify(t *testing.T) {
	dir := t.TempDir()
	MustKeyPair(t, dir, "team")
	MustKeyPair(t, dir, "other")
	pkg := MustPytools(t, dir)
	t.Run("OKKeyFiles", func(t *testing.T) {
		fi, err := os.Stat(filepath.Join(dir, "team.private.pem"))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("private key: %v mode %v", err, fi.Mode())
		}
		if _, err := os.Stat(filepath.Join(dir, "team.public.pem")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrGenOverwrite", func(t *testing.T) {
		_, stderr, err := runCLI(t, dir, "keys", "gen", "--out", "team", "--bits", "2048")
		if err == nil || !strings.Contains(stderr, "already exists") {
			t.Fatalf("err %v stderr %q", err, stderr)
		}
	})
	if _, stderr, err := runCLI(t, dir, "plugin", "sign", "--key", "team.private.pem", pkg); err != nil {
		t.Fatalf("sign: %v\n%s", err, stderr)
	}
	signed := filepath.Join(dir, "pytools.signed.difypkg")
	t.Run("OK", func(t *testing.T) {
		out, stderr, err := runCLI(t, dir, "plugin", "verify", signed, "--key", "team.public.pem")
		if err != nil || !strings.HasPrefix(out, "signed by team\n") {
			t.Fatalf("verify: %v\n%s%s", err, out, stderr)
		}
	})
	t.Run("ErrUntrusted", func(t *testing.T) {
		out, _, err := runCLI(t, dir, "plugin", "verify", signed, "--key", "other.public.pem")
		if err == nil || !strings.HasPrefix(out, "untrusted signature") {
			t.Fatalf("verify: %v\n%s", err, out)
		}
	})
	t.Run("Unsigned", func(t *testing.T) {
		out, _, err := runCLI(t, dir, "plugin", "verify", pkg)
		if err != nil || strings.TrimSpace(out) != "unsigned" {
			t.Fatalf("verify: %v\n%s", err, out)
		}
	})
	t.Run("ErrTampered", func(t *testing.T) {
		data, _ := os.ReadFile(signed)
		bad := filepath.Join(dir, "bad.difypkg")
		// Flip a byte of the zip comment's signature: still JSON, wrong signature.
		i := strings.Index(string(data), `"signature":"`) + len(`"signature":"`) + 2
		data[i] ^= 'A' ^ 'B'
		os.WriteFile(bad, data, 0o644)
		out, stderr, err := runCLI(t, dir, "plugin", "verify", bad, "--key", "team.public.pem")
		if err == nil || !strings.HasPrefix(out, "signature invalid") || !strings.Contains(stderr, "signature invalid") {
			t.Fatalf("verify: %v\n%s%s", err, out, stderr)
		}
	})
	t.Run("ErrPrivateKeyAsTrusted", func(t *testing.T) {
		_, stderr, err := runCLI(t, dir, "plugin", "verify", signed, "--key", "team.private.pem")
		if err == nil || !strings.Contains(stderr, "private key") {
			t.Fatalf("verify: %v\n%s", err, stderr)
		}
	})
}
