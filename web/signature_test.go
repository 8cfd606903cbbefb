package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rsa"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/signature"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/web"
	"github.com/plugboard/plugboard/web/guard"
	"golang.org/x/crypto/bcrypt"
)

var (
	sigKeysOnce sync.Once
	sigKeys     [2]*rsa.PrivateKey
)

// MustSigningKey returns test key i of two (2048 bits, made once).
func MustSigningKey(tb testing.TB, i int) *rsa.PrivateKey {
	tb.Helper()
	sigKeysOnce.Do(func() {
		for j := range sigKeys {
			k, err := signature.GenerateKey(2048)
			if err != nil {
				panic(err)
			}
			sigKeys[j] = k
		}
	})
	return sigKeys[i]
}

// MustSigned returns pytools signed with test key i.
func MustSigned(tb testing.TB, i int) []byte {
	tb.Helper()
	out, err := signature.Sign(MustPytools(tb), MustSigningKey(tb, i), "")
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// MustTampered returns pkg with one byte added to manifest.yaml, its zip
// comment (signature) kept.
func MustTampered(tb testing.TB, pkg []byte) []byte {
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
		if f.Name == "manifest.yaml" {
			data = append(data, '\n')
		}
		w, _ := zw.Create(f.Name)
		w.Write(data)
	}
	zw.SetComment(zr.Comment)
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}

// MustTrust trusts test key i as name.
func MustTrust(tb testing.TB, app *App, name string, i int) {
	tb.Helper()
	pem := signature.EncodePublicKey(&MustSigningKey(tb, i).PublicKey)
	if _, err := app.Store.CreateTrustedKey(context.Background(), "ann", name, string(pem)); err != nil {
		tb.Fatal(err)
	}
}

// wantRefused fails unless the upload was refused with a message holding want.
func wantRefused(tb testing.TB, p *Page, want string) {
	tb.Helper()
	wantStatus(tb, p, http.StatusUnprocessableEntity)
	if got := p.TestID("upload-error-message").Text(); !strings.Contains(got, want) {
		tb.Fatalf("message %q, want %q", got, want)
	}
}

// wantSignature fails unless the preview shows the signature label.
func wantSignature(tb testing.TB, p *Page, label string) {
	tb.Helper()
	wantStatus(tb, p, http.StatusOK)
	if got := p.TestID("preview-signature").Text(); got != label {
		tb.Fatalf("signature %q, want %q", got, label)
	}
}

func TestSignaturePolicies(t *testing.T) {
	daemonURL, cl := MustDaemon(t)
	app := MustApp(t, daemonURL)
	app.MustUser(t, "ann", store.RoleOwner)
	MustTrust(t, app, "team", 0)
	b := app.NewBrowser(t)
	b.MustLogin("ann")
	b.Get("/")
	good, untrusted, unsigned := MustSigned(t, 0), MustSigned(t, 1), MustPytools(t)
	tampered := MustTampered(t, good)
	setPolicy := func(t *testing.T, p store.SignaturePolicy) {
		t.Helper()
		if err := app.Store.SetSignaturePolicy(context.Background(), "ann", p); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("AllowUnsigned", func(t *testing.T) {
		setPolicy(t, store.PolicyAllowUnsigned)
		wantSignature(t, b.PostFile("/plugins/upload", "good.difypkg", good), "signed by team")
		p := b.PostFile("/plugins/upload", "other.difypkg", untrusted)
		wantSignature(t, p, "untrusted signature")
		if got := p.TestID("preview-signature-reason").Text(); !strings.Contains(got, "not trusted") {
			t.Fatalf("reason %q", got)
		}
		wantSignature(t, b.PostFile("/plugins/upload", "plain.difypkg", unsigned), "unsigned")
		wantRefused(t, b.PostFile("/plugins/upload", "bad.difypkg", tampered), "changed after it was signed")
	})
	t.Run("RequireTrusted", func(t *testing.T) {
		setPolicy(t, store.PolicyRequireTrusted)
		wantSignature(t, b.PostFile("/plugins/upload", "good.difypkg", good), "signed by team")
		wantRefused(t, b.PostFile("/plugins/upload", "other.difypkg", untrusted), "not trusted here")
		wantRefused(t, b.PostFile("/plugins/upload", "plain.difypkg", unsigned), "requires a trusted signature, and this package is unsigned")
		wantRefused(t, b.PostFile("/plugins/upload", "bad.difypkg", tampered), "signature is invalid")
	})
	t.Run("MarketplaceOnly", func(t *testing.T) {
		setPolicy(t, store.PolicyMarketplaceOnly)
		wantRefused(t, b.PostFile("/plugins/upload", "good.difypkg", good), "only packages from the marketplace")
		wantRefused(t, b.PostFile("/plugins/upload", "bad.difypkg", tampered), "signature is invalid")
	})
	t.Run("ErrPolicyTightenedBeforeInstall", func(t *testing.T) {
		setPolicy(t, store.PolicyAllowUnsigned)
		p := b.PostFile("/plugins/upload", "plain.difypkg", unsigned)
		uid, _ := p.TestID("install-preview").Attr("data-uid")
		setPolicy(t, store.PolicyRequireTrusted)
		wantRefused(t, b.PostHX("/plugins/install", url.Values{"uid": {uid}}), "unsigned")
	})
	t.Run("ErrForgedMarketplaceSource", func(t *testing.T) {
		setPolicy(t, store.PolicyAllowUnsigned)
		p := b.PostFile("/plugins/upload", "plain.difypkg", unsigned)
		uid, _ := p.TestID("install-preview").Attr("data-uid")
		setPolicy(t, store.PolicyMarketplaceOnly)
		p = b.PostHX("/plugins/install", url.Values{"uid": {uid}, "source": {"marketplace"}})
		wantRefused(t, p, "comes from an uploaded file")
	})
	t.Run("OKCardShowsSigner", func(t *testing.T) {
		setPolicy(t, store.PolicyRequireTrusted)
		p := b.PostFile("/plugins/upload", "good.difypkg", good)
		uid, _ := p.TestID("install-preview").Attr("data-uid")
		ctx := context.Background()
		res, err := cl.Install(ctx, []string{uid}, "package", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cl.WaitTask(ctx, res.TaskID); err != nil {
			t.Fatal(err)
		}
		card := b.Get("/").TestID("plugin-signature")
		if got := card.Text(); got != "signed by team" {
			t.Fatalf("card signature %q", got)
		}
		if got := b.Get("/plugins/plugboard/pytools").TestID("plugin-signature").Text(); got != "signed by team" {
			t.Fatalf("detail signature %q", got)
		}
	})
}

func TestSettingsPage(t *testing.T) {
	app := MustApp(t, deadDaemon)
	app.MustUser(t, "ann", store.RoleAdmin)
	app.MustUser(t, "bob", store.RoleMember)
	b := app.NewBrowser(t)
	b.MustLogin("ann")
	b.Get("/settings")
	pem := string(signature.EncodePublicKey(&MustSigningKey(t, 0).PublicKey))
	t.Run("OKAddKey", func(t *testing.T) {
		wantRedirect(t, b.Post("/settings/keys", url.Values{"name": {"team"}, "pem": {pem}}), "/settings")
		p := b.Get("/settings")
		if p.TestID("key-name").Text() != "team" || p.TestID("key-fingerprint").Text() != signature.Fingerprint(&MustSigningKey(t, 0).PublicKey) {
			t.Fatalf("keys: %.600s", p.TestID("signing-keys").Text())
		}
		if !strings.Contains(p.TestID("key-row").Text(), "added by ann") {
			t.Fatalf("row %q", p.TestID("key-row").Text())
		}
	})
	t.Run("ErrBadPEM", func(t *testing.T) {
		p := b.Post("/settings/keys", url.Values{"name": {"x"}, "pem": {"not a key"}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if !strings.Contains(p.TestID("error-pem").Text(), "not PEM") || p.TestID("input-pem").Text() != "not a key" {
			t.Fatalf("form: %.600s", p.TestID("add-key").Text())
		}
	})
	t.Run("ErrPrivateKey", func(t *testing.T) {
		priv := string(signature.EncodePrivateKey(MustSigningKey(t, 1)))
		p := b.Post("/settings/keys", url.Values{"name": {"oops"}, "pem": {priv}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if !strings.Contains(p.TestID("error-pem").Text(), "private key") {
			t.Fatalf("error %q", p.TestID("error-pem").Text())
		}
	})
	t.Run("OKPolicy", func(t *testing.T) {
		wantRedirect(t, b.Post("/settings/signature-policy", url.Values{"policy": {"require_trusted"}}), "/settings")
		if _, ok := b.Get("/settings").TestID("policy-require_trusted").Attr("checked"); !ok {
			t.Fatal("policy not checked")
		}
		wantStatus(t, b.Post("/settings/signature-policy", url.Values{"policy": {"yolo"}}), http.StatusUnprocessableEntity)
	})
	t.Run("OKDeleteKey", func(t *testing.T) {
		p := b.Get("/settings")
		action, _ := p.TestID("key-row").Find("form").Attr("action")
		wantRedirect(t, b.Post(action, url.Values{}), "/settings")
		if b.Get("/settings").TestID("keys-empty").Length() != 1 {
			t.Fatal("key still listed")
		}
		entries, _, _ := app.Store.FindAuditEntries(context.Background(), store.AuditFilter{})
		var actions []string
		for _, e := range entries {
			if !strings.HasPrefix(e.Action, "auth.") { // sign-ins are audited too
				actions = append(actions, e.Action)
			}
		}
		if got := strings.Join(actions, ","); got != "signing_key.delete,signature.policy,signing_key.add" {
			t.Fatalf("audit %s", got)
		}
	})
	t.Run("ErrMemberForbidden", func(t *testing.T) {
		m := app.NewBrowser(t)
		m.MustLogin("bob")
		wantStatus(t, m.Get("/settings"), http.StatusForbidden)
		m.Get("/")
		wantStatus(t, m.Post("/settings/keys", url.Values{"name": {"x"}, "pem": {pem}}), http.StatusForbidden)
	})
}

func TestInstallPermission(t *testing.T) {
	daemonURL, _ := MustDaemon(t)
	app := MustApp(t, daemonURL)
	app.MustUser(t, "ann", store.RoleOwner)
	app.MustUser(t, "bob", store.RoleMember)
	setPerm := func(t *testing.T, p store.Permission) {
		t.Helper()
		if err := app.Store.SetPermissions(context.Background(), "ann", store.Permissions{Install: p, Debug: store.PermAdmins}); err != nil {
			t.Fatal(err)
		}
	}
	owner, member := app.NewBrowser(t), app.NewBrowser(t)
	owner.MustLogin("ann")
	member.MustLogin("bob")
	pkg := MustPytools(t)
	t.Run("ErrMemberByDefault", func(t *testing.T) {
		if member.Get("/").TestID("upload-form").Length() != 0 {
			t.Fatal("member sees the upload form")
		}
		wantStatus(t, member.PostFile("/plugins/upload", "p.difypkg", pkg), http.StatusForbidden)
	})
	t.Run("OKEveryone", func(t *testing.T) {
		setPerm(t, store.PermEveryone)
		if member.Get("/").TestID("upload-form").Length() != 1 {
			t.Fatal("member has no upload form")
		}
		wantSignature(t, member.PostFile("/plugins/upload", "p.difypkg", pkg), "unsigned")
	})
	t.Run("ErrNobody", func(t *testing.T) {
		setPerm(t, store.PermNobody)
		if owner.Get("/").TestID("upload-form").Length() != 0 {
			t.Fatal("owner sees the upload form though no one may install")
		}
		p := owner.PostFile("/plugins/upload", "p.difypkg", pkg)
		wantStatus(t, p, http.StatusForbidden)
		if !strings.Contains(p.Body, "No one may install plugins") {
			t.Fatalf("body %.400s", p.Body)
		}
	})
	t.Run("OKSettingsForm", func(t *testing.T) {
		owner.Get("/settings")
		wantRedirect(t, owner.Post("/settings/permissions", url.Values{"install": {"admins"}, "debug": {"nobody"}}), "/settings")
		p, _ := app.Store.FindPermissions(context.Background())
		if p.Install != store.PermAdmins || p.Debug != store.PermNobody {
			t.Fatalf("permissions %+v", p)
		}
		wantStatus(t, owner.Post("/settings/permissions", url.Values{"install": {"root"}, "debug": {"nobody"}}), http.StatusUnprocessableEntity)
	})
}

// MustAppExamples starts the admin app like MustApp, offering the
// packages in dir as one-click examples.
func MustAppExamples(tb testing.TB, daemonURL, dir string) *App {
	tb.Helper()
	data := tb.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(data, "plugboard.db"))
	if err != nil {
		tb.Fatal(err)
	}
	db.HashCost = bcrypt.MinCost
	keys, err := guard.LoadSessionKeys(filepath.Join(data, "session-keys"))
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(web.New(web.Config{
		Store: db, Daemon: client.New(daemonURL, "test-key"), DaemonURL: daemonURL, SessionKeys: keys, Examples: dir,
	}))
	tb.Cleanup(func() { srv.Close(); db.Close() })
	return &App{URL: srv.URL, Store: db}
}

// TestExampleSignature checks the one-click example install against the
// signature policy too.
func TestExampleSignature(t *testing.T) {
	daemonURL, _ := MustDaemon(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tampered.difypkg"), MustTampered(t, MustSigned(t, 0)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plain.difypkg"), MustPytools(t), 0o644); err != nil {
		t.Fatal(err)
	}
	app := MustAppExamples(t, daemonURL, dir)
	app.MustUser(t, "ann", store.RoleOwner)
	b := app.NewBrowser(t)
	b.MustLogin("ann")
	b.Get("/")
	t.Run("ErrTampered", func(t *testing.T) {
		wantRefused(t, b.PostHX("/examples/install", url.Values{"file": {"tampered.difypkg"}}), "signature is invalid")
	})
	t.Run("ErrUnsignedUnderRequireTrusted", func(t *testing.T) {
		if err := app.Store.SetSignaturePolicy(context.Background(), "ann", store.PolicyRequireTrusted); err != nil {
			t.Fatal(err)
		}
		wantRefused(t, b.PostHX("/examples/install", url.Values{"file": {"plain.difypkg"}}), "unsigned")
	})
}
