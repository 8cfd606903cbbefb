package signature_test

import (
	"archive/zip"
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/daemon/signature"
)

var (
	keysOnce sync.Once
	keys     [2]*rsa.PrivateKey
)

// MustKey returns one of two 2048-bit test keys (made once: RSA key
// generation is slow).
func MustKey(tb testing.TB, i int) *rsa.PrivateKey {
	tb.Helper()
	keysOnce.Do(func() {
		for j := range keys {
			k, err := signature.GenerateKey(2048)
			if err != nil {
				panic(err)
			}
			keys[j] = k
		}
	})
	return keys[i]
}

// MustPackage packs the pytools example.
func MustPackage(tb testing.TB) []byte {
	tb.Helper()
	data, _, err := pkgfmt.Pack(os.DirFS("../../examples/plugins/pytools"), pkgfmt.DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// MustSign signs pkg with test key i.
func MustSign(tb testing.TB, pkg []byte, i int) []byte {
	tb.Helper()
	out, err := signature.Sign(pkg, MustKey(tb, i), "")
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// MustVerify verifies pkg trusting key 0 as "team".
func MustVerify(tb testing.TB, pkg []byte) signature.Verdict {
	tb.Helper()
	vd, err := signature.Verify(pkg, []signature.Key{{Name: "team", Public: &MustKey(tb, 0).PublicKey}})
	if err != nil {
		tb.Fatal(err)
	}
	return vd
}

// rewrite copies pkg's zip, passing every file's content through edit,
// keeping the comment unless comment is non-nil.
func rewrite(tb testing.TB, pkg []byte, edit func(name string, data []byte) []byte, comment *string) []byte {
	tb.Helper()
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		tb.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, _ := f.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		w, _ := zw.Create(f.Name)
		w.Write(edit(f.Name, data))
	}
	c := zr.Comment
	if comment != nil {
		c = *comment
	}
	zw.SetComment(c)
	zw.Close()
	return out.Bytes()
}

func TestVerify(t *testing.T) {
	pkg := MustPackage(t)
	signed := MustSign(t, pkg, 0)
	t.Run("OK", func(t *testing.T) {
		vd := MustVerify(t, signed)
		if vd.Status != signature.Signed || vd.KeyName != "team" || vd.Category != signature.CategoryCommunity {
			t.Fatalf("verdict %+v", vd)
		}
		if vd.Fingerprint != signature.Fingerprint(&MustKey(t, 0).PublicKey) || vd.Label() != "signed by team" {
			t.Fatalf("fingerprint %s label %q", vd.Fingerprint, vd.Label())
		}
		if time.Since(vd.Time) > time.Minute {
			t.Fatalf("time %v", vd.Time)
		}
	})
	t.Run("OKStillAPackage", func(t *testing.T) {
		p, err := pkgfmt.Decode(signed, pkgfmt.DefaultLimits())
		if err != nil || !p.Signed {
			t.Fatalf("decode signed package: %v (signed %v)", err, p != nil && p.Signed)
		}
	})
	t.Run("OKResign", func(t *testing.T) {
		again := MustSign(t, signed, 0)
		if vd := MustVerify(t, again); vd.Status != signature.Signed {
			t.Fatalf("re-signed: %+v", vd)
		}
		zr, _ := zip.NewReader(bytes.NewReader(again), int64(len(again)))
		n := 0
		for _, f := range zr.File {
			if f.Name == signature.VerificationFile {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d verification files", n)
		}
	})
	t.Run("ErrTampered", func(t *testing.T) {
		bad := rewrite(t, signed, func(name string, data []byte) []byte {
			if name == "manifest.yaml" {
				return append(data, '\n')
			}
			return data
		}, nil)
		vd := MustVerify(t, bad)
		if vd.Status != signature.Invalid || !strings.Contains(vd.Reason, "changed after it was signed") {
			t.Fatalf("verdict %+v", vd)
		}
	})
	t.Run("ErrTamperedCategory", func(t *testing.T) {
		bad := rewrite(t, signed, func(name string, data []byte) []byte {
			if name == signature.VerificationFile {
				return []byte(`{"authorized_category":"langgenius"}`)
			}
			return data
		}, nil)
		if vd := MustVerify(t, bad); vd.Status != signature.Invalid {
			t.Fatalf("verdict %+v", vd)
		}
	})
	t.Run("ErrUntrusted", func(t *testing.T) {
		vd := MustVerify(t, MustSign(t, pkg, 1))
		if vd.Status != signature.Untrusted || vd.Fingerprint != signature.Fingerprint(&MustKey(t, 1).PublicKey) {
			t.Fatalf("verdict %+v", vd)
		}
		if vd.Label() != "untrusted signature" {
			t.Fatalf("label %q", vd.Label())
		}
	})
	t.Run("ErrTamperedUntrusted", func(t *testing.T) {
		bad := rewrite(t, MustSign(t, pkg, 1), func(name string, data []byte) []byte {
			if name == "manifest.yaml" {
				return append(data, '\n')
			}
			return data
		}, nil)
		if vd := MustVerify(t, bad); vd.Status != signature.Invalid {
			t.Fatalf("verdict %+v", vd)
		}
	})
	t.Run("Unsigned", func(t *testing.T) {
		vd := MustVerify(t, pkg)
		if vd.Status != signature.Unsigned || vd.Label() != "unsigned" {
			t.Fatalf("verdict %+v", vd)
		}
	})
	t.Run("ErrGarbageComment", func(t *testing.T) {
		c := "hello, not json"
		vd := MustVerify(t, rewrite(t, signed, func(_ string, d []byte) []byte { return d }, &c))
		if vd.Status != signature.Invalid || !strings.Contains(vd.Reason, "not a signature") {
			t.Fatalf("verdict %+v", vd)
		}
	})
	t.Run("ErrBadBase64", func(t *testing.T) {
		c := `{"signature":"!!!","time":1}`
		vd := MustVerify(t, rewrite(t, signed, func(_ string, d []byte) []byte { return d }, &c))
		if vd.Status != signature.Invalid || !strings.Contains(vd.Reason, "base64") {
			t.Fatalf("verdict %+v", vd)
		}
	})
	t.Run("ErrNotZip", func(t *testing.T) {
		if _, err := signature.Verify([]byte("nope"), nil); err == nil || !strings.Contains(err.Error(), "not a zip") {
			t.Fatalf("err %v", err)
		}
	})
}

func TestVerifyTime(t *testing.T) {
	pkg := MustPackage(t)
	trusted := []signature.Key{{Name: "team", Public: &MustKey(t, 0).PublicKey}}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	t.Run("ErrFuture", func(t *testing.T) {
		signed, err := signature.SignAt(pkg, MustKey(t, 0), "", now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		vd, _ := signature.Verifier{Trusted: trusted, Now: func() time.Time { return now }}.Verify(signed)
		if vd.Status != signature.Invalid || !strings.Contains(vd.Reason, "in the future") {
			t.Fatalf("verdict %+v", vd)
		}
	})
	t.Run("OKWithinSkew", func(t *testing.T) {
		signed, _ := signature.SignAt(pkg, MustKey(t, 0), "", now.Add(time.Minute))
		vd, _ := signature.Verifier{Trusted: trusted, Now: func() time.Time { return now }}.Verify(signed)
		if vd.Status != signature.Signed {
			t.Fatalf("verdict %+v", vd)
		}
	})
	t.Run("ErrExpired", func(t *testing.T) {
		signed, _ := signature.SignAt(pkg, MustKey(t, 0), "", now.Add(-48*time.Hour))
		vd, _ := signature.Verifier{Trusted: trusted, Now: func() time.Time { return now }, MaxAge: 24 * time.Hour}.Verify(signed)
		if vd.Status != signature.Invalid || !strings.Contains(vd.Reason, "expired") {
			t.Fatalf("verdict %+v", vd)
		}
	})
}

func TestSign(t *testing.T) {
	t.Run("ErrCategory", func(t *testing.T) {
		_, err := signature.Sign(MustPackage(t), MustKey(t, 0), "vip")
		if err == nil || !strings.Contains(err.Error(), `"vip"`) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("ErrNotZip", func(t *testing.T) {
		if _, err := signature.Sign([]byte("x"), MustKey(t, 0), ""); err == nil {
			t.Fatal("signed a non-zip")
		}
	})
}

func TestKeys(t *testing.T) {
	k := MustKey(t, 0)
	t.Run("OK", func(t *testing.T) {
		priv, err := signature.ParsePrivateKey(signature.EncodePrivateKey(k))
		if err != nil || !priv.Equal(k) {
			t.Fatalf("private round trip: %v", err)
		}
		pub, err := signature.ParsePublicKey(signature.EncodePublicKey(&k.PublicKey))
		if err != nil || !pub.Equal(&k.PublicKey) {
			t.Fatalf("public round trip: %v", err)
		}
	})
	t.Run("OKDifyAndOpenSSLForms", func(t *testing.T) {
		if !strings.HasPrefix(string(signature.EncodePublicKey(&k.PublicKey)), "-----BEGIN RSA PUBLIC KEY-----") {
			t.Fatal("public key is not PKCS #1, which Dify loads")
		}
		der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
		pkix := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		if pub, err := signature.ParsePublicKey(pkix); err != nil || !pub.Equal(&k.PublicKey) {
			t.Fatalf("PKIX public key: %v", err)
		}
	})
	t.Run("ErrPrivateAsPublic", func(t *testing.T) {
		_, err := signature.ParsePublicKey(signature.EncodePrivateKey(k))
		if err == nil || !strings.Contains(err.Error(), "private key") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("ErrNotPEM", func(t *testing.T) {
		if _, err := signature.ParsePublicKey([]byte("ssh-rsa AAAA")); err == nil || !strings.Contains(err.Error(), "not PEM") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("ErrSmallKey", func(t *testing.T) {
		if _, err := signature.GenerateKey(1024); err == nil {
			t.Fatal("made a 1024-bit key")
		}
	})
}

// TestVerifyDifyLegacy signs a package the way Dify's verifier checks it,
// computed independently here: sha256 of every file in zip order, then the
// decimal time, with no verification file (Dify's oldest packages).
func TestVerifyDifyLegacy(t *testing.T) {
	pkg := MustPackage(t)
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for _, f := range zr.File {
		rc, _ := f.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		sum := sha256.Sum256(data)
		h.Write(sum[:])
	}
	h.Write([]byte("1700000000"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, MustKey(t, 0), crypto.SHA256, h.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	c := `{"signature":"` + base64.StdEncoding.EncodeToString(sig) + `","time":1700000000}`
	vd := MustVerify(t, rewrite(t, pkg, func(_ string, d []byte) []byte { return d }, &c))
	if vd.Status != signature.Signed || vd.KeyName != "team" || vd.Category != "" {
		t.Fatalf("verdict %+v", vd)
	}
	t.Run("ErrUntrustedWithoutKeyField", func(t *testing.T) {
		vd, _ := signature.Verify(rewrite(t, pkg, func(_ string, d []byte) []byte { return d }, &c), nil)
		if vd.Status != signature.Untrusted || !strings.Contains(vd.Reason, "no trusted key") {
			t.Fatalf("verdict %+v", vd)
		}
	})
}
