package e2e_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/plugboard/plugboard/daemon/signature"
)

// MustSignedPytools packs pytools into dir, signs it with a new key and
// returns the signed and unsigned packages and the key's public PEM.
func MustSignedPytools(tb testing.TB, dir string) (signed, unsigned, publicPEM string) {
	tb.Helper()
	unsigned = MustPackPytools(tb, dir)
	data, err := os.ReadFile(unsigned)
	if err != nil {
		tb.Fatal(err)
	}
	key, err := signature.GenerateKey(2048)
	if err != nil {
		tb.Fatal(err)
	}
	out, err := signature.Sign(data, key, "")
	if err != nil {
		tb.Fatal(err)
	}
	signed = filepath.Join(dir, "pytools.signed.difypkg")
	if err := os.WriteFile(signed, out, 0o644); err != nil {
		tb.Fatal(err)
	}
	return signed, unsigned, string(signature.EncodePublicKey(&key.PublicKey))
}

// TestSignatures trusts a key on the Settings page, sees "signed by" in
// the preview and on the card of a package it signed, then requires trusted signatures and
// sees an unsigned package refused with the reason.
func TestSignatures(t *testing.T) {
	skipWithoutChromium(t)
	signed, unsigned, pem := MustSignedPytools(t, t.TempDir())
	srv := MustServe(t)
	b := MustBrowser(t, srv)
	b.CreateOwner()

	t.Run("OKTrustKeyAndPreview", func(t *testing.T) {
		b.Open("/settings", "settings-page")
		b.Fill(map[string]string{"input-name": "Release team", "input-pem": pem})
		submit(b, "trust key", tid("key-submit"), "key-row")
		if got := b.Text("key-name"); got != "Release team" {
			t.Fatalf("key name %q", got)
		}
		if got := b.Text("key-fingerprint"); len(got) != 64 {
			t.Fatalf("fingerprint %q", got)
		}
		b.Shoot("settings-signing-keys")
		b.Open("/", "plugins-page")
		b.upload(signed)
		b.Do("preview", chromedp.WaitVisible(tid("install-preview")))
		if got := b.Text("preview-signature"); got != "signed by Release team" {
			t.Fatalf("signature %q", got)
		}
		b.Shoot("preview-signed")
		b.Do("install", chromedp.Click(tid("install-submit")), chromedp.WaitVisible(`[data-testid="task-progress"][data-status="success"]`))
		b.Do("card running", chromedp.WaitVisible(runningCard("plugboard/pytools")))
		if got := b.Text("plugin-signature"); got != "signed by Release team" {
			t.Fatalf("card signature %q", got)
		}
		b.Shoot("card-signed")
	})
	t.Run("ErrRequireTrustedRefusesUnsigned", func(t *testing.T) {
		b.Open("/settings", "settings-page")
		b.Do("choose policy", chromedp.Click(tid("policy-require_trusted")))
		submit(b, "save policy", tid("policy-submit"), "settings-page")
		b.Open("/", "plugins-page")
		b.upload(unsigned)
		b.Do("refused", chromedp.WaitVisible(tid("upload-error")))
		if got := b.Text("upload-error-message"); !strings.Contains(got, "requires a trusted signature") {
			t.Fatalf("message %q", got)
		}
		b.Shoot("preview-refused-unsigned")
	})
}
