package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
)

const (
	providerPath = "/credentials/plugboard/gotools/gotools"
	goodKey      = "demo-Sup3rSecretKey-7781"
	otherKey     = "demo-An0therSecretKey-42"
)

// credentialForm is a valid add/edit form with the given name and key.
func credentialForm(name, key string) url.Values {
	return url.Values{"name": {name}, "f_api_key": {key}, "f_region": {"eu"}, "f_account": {"acme"}}
}

// admin signs in a fresh admin browser.
func (a *CredApp) admin(tb testing.TB) *Browser {
	a.MustUser(tb, "alice", store.RoleAdmin)
	b := a.NewBrowser(tb)
	b.MustLogin("alice")
	return b
}

func (a *CredApp) find(tb testing.TB) []*store.Credential {
	tb.Helper()
	list, err := a.Creds.FindCredentials(context.Background(), store.CredentialFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	return list
}

func TestCredentials(t *testing.T) {
	a := MustCredApp(t)
	b := a.admin(t)
	var id string

	t.Run("OKProviderListedWithSchema", func(t *testing.T) {
		p := b.Get("/credentials")
		wantStatus(t, p, http.StatusOK)
		if p.Doc.Find(`[data-provider="plugboard/gotools/gotools"]`).Length() != 1 {
			t.Fatalf("gotools provider not listed:\n%.800s", p.Body)
		}
		p = b.Get(providerPath)
		wantStatus(t, p, http.StatusOK)
		for sel, want := range map[string]int{
			`input[type=password][name=f_api_key]`:             1,
			`select[name=f_region] option[value=us]`:           1,
			`select[name=f_region] option[value=eu][selected]`: 1,
			`input[type=checkbox][name=f_verbose]`:             1,
			`input[type=text][name=f_account]`:                 1,
			`a[href="https://example.com/how-to-get-a-key"]`:   1,
		} {
			if n := p.Doc.Find(sel).Length(); n != want {
				t.Errorf("%s: %d, want %d", sel, n, want)
			}
		}
	})
	t.Run("ErrRequiredAndBadSelect", func(t *testing.T) {
		p := b.Post(providerPath, url.Values{"name": {"x"}, "f_api_key": {""}, "f_region": {"mars"}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if !strings.Contains(p.TestID("error-f_api_key").Text(), "required") {
			t.Errorf("api_key error = %q", p.TestID("error-f_api_key").Text())
		}
		if !strings.Contains(p.TestID("error-f_region").Text(), `"mars" is not one of the choices`) {
			t.Errorf("region error = %q", p.TestID("error-f_region").Text())
		}
		if len(a.find(t)) != 0 {
			t.Fatal("something was saved")
		}
	})
	t.Run("ErrPluginRejects", func(t *testing.T) {
		p := b.Post(providerPath, credentialForm("bad", "nope-Sup3rWrongKey"))
		wantStatus(t, p, http.StatusUnprocessableEntity)
		msg := p.TestID("form-error").Text()
		if !strings.Contains(msg, `api_key must start with "demo-"`) {
			t.Fatalf("form error = %q, want the plugin's message", msg)
		}
		if strings.Contains(p.Body, "Sup3rWrongKey") {
			t.Fatal("the rejected key was sent back in the page")
		}
		if len(a.find(t)) != 0 {
			t.Fatal("a rejected credential was saved")
		}
	})
	t.Run("OKAdd", func(t *testing.T) {
		wantRedirect(t, b.Post(providerPath, credentialForm("prod", goodKey)), providerPath)
		list := a.find(t)
		if len(list) != 1 || !list[0].IsDefault || list[0].Values["region"] != "eu" || list[0].Values["verbose"] != false {
			t.Fatalf("stored %+v", list)
		}
		id = itoa(list[0].ID)
	})
	t.Run("OKPagesShowOnlyTheMask", func(t *testing.T) {
		for _, path := range []string{"/credentials", providerPath, providerPath + "/" + id + "/edit", "/audit"} {
			p := b.Get(path)
			wantStatus(t, p, http.StatusOK)
			if strings.Contains(p.Body, "Sup3rSecretKey") {
				t.Errorf("%s contains the secret", path)
			}
		}
		p := b.Get(providerPath)
		if got := p.TestID("value-api_key").Text(); got != secret.Mask(goodKey) {
			t.Errorf("listed value = %q, want the mask", got)
		}
		edit := b.Get(providerPath + "/" + id + "/edit")
		if v, _ := edit.Doc.Find(`input[name=f_api_key]`).Attr("value"); v != secret.Mask(goodKey) {
			t.Errorf("edit form value = %q, want the mask", v)
		}
	})
	t.Run("OKMaskedResaveKeepsSecret", func(t *testing.T) {
		b.Get(providerPath + "/" + id + "/edit")
		f := credentialForm("live", secret.Mask(goodKey))
		f.Set("f_region", "us")
		wantRedirect(t, b.Post(providerPath+"/"+id, f), providerPath)
		c := a.find(t)[0]
		plain, err := a.Creds.DecryptedCredential(context.Background(), c.ID)
		if err != nil || plain["api_key"] != goodKey || plain["region"] != "us" || c.Name != "live" {
			t.Fatalf("after masked re-save: %s %v, %v", c.Name, plain["region"], err)
		}
	})
	t.Run("ErrEditRejectedKeepsOld", func(t *testing.T) {
		p := b.Post(providerPath+"/"+id, credentialForm("live", "short"))
		wantStatus(t, p, http.StatusUnprocessableEntity)
		plain, _ := a.Creds.DecryptedCredential(context.Background(), a.find(t)[0].ID)
		if plain["api_key"] != goodKey {
			t.Fatal("a rejected edit changed the secret")
		}
	})
	t.Run("OKTestRecorded", func(t *testing.T) {
		b.Get(providerPath)
		wantRedirect(t, b.Post(providerPath+"/"+id+"/test", url.Values{}), providerPath)
		p := b.Get(providerPath)
		if st := p.TestID("test-status").AttrOr("data-status", ""); st != "ok" {
			t.Fatalf("test status = %q", st)
		}
		if c := a.find(t)[0]; c.TestedAt.IsZero() || !c.TestOK {
			t.Fatalf("test not recorded: %+v", c)
		}
	})
	t.Run("OKSecondThenDefaultThenDelete", func(t *testing.T) {
		b.Get(providerPath)
		wantRedirect(t, b.Post(providerPath, credentialForm("staging", otherKey)), providerPath)
		list := a.find(t)
		second := list[1]
		if second.IsDefault {
			t.Fatal("second credential became the default")
		}
		path := providerPath + "/" + itoa(second.ID)
		wantRedirect(t, b.Post(path+"/default", url.Values{}), providerPath)
		if d, _ := a.Creds.DefaultCredential(context.Background(), "plugboard/gotools", "gotools"); d.ID != second.ID {
			t.Fatalf("default = %s", d.Name)
		}
		wantRedirect(t, b.Post(path+"/delete", url.Values{}), providerPath)
		if list := a.find(t); len(list) != 1 || !list[0].IsDefault {
			t.Fatalf("after delete: %+v", list)
		}
	})
	t.Run("ErrNameTaken", func(t *testing.T) {
		b.Get(providerPath)
		p := b.Post(providerPath, credentialForm("live", otherKey))
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if !strings.Contains(p.TestID("error-name").Text(), "already") {
			t.Fatalf("name error = %q", p.TestID("error-name").Text())
		}
	})
	t.Run("ErrOtherProvidersCredential", func(t *testing.T) {
		p := b.Get("/credentials/plugboard/gotools/nosuch/" + id + "/edit")
		wantStatus(t, p, http.StatusNotFound)
	})
	t.Run("OKAuditedWithoutSecret", func(t *testing.T) {
		p := b.Get("/audit")
		if n := p.TestID("audit-entry").Length(); n < 6 {
			t.Fatalf("%d audit entries", n)
		}
		p = b.Get("/audit?action=credential.test")
		if n := p.TestID("audit-entry").Length(); n != 1 {
			t.Fatalf("%d credential.test entries", n)
		}
	})
	t.Run("OKNoSecretInLogsOrDatabase", func(t *testing.T) {
		logs := a.Logs.String()
		if logs == "" {
			t.Fatal("nothing was logged; the check would prove nothing")
		}
		for _, s := range []string{"Sup3rSecretKey", "An0therSecretKey", "Sup3rWrongKey"} {
			if strings.Contains(logs, s) {
				t.Errorf("a log line contains %s", s)
			}
		}
		for _, f := range []string{a.Path, a.Path + "-wal"} {
			raw, _ := os.ReadFile(f)
			if bytes.Contains(raw, []byte("Sup3rSecretKey")) || bytes.Contains(raw, []byte("An0therSecretKey")) {
				t.Errorf("%s contains a plaintext secret", f)
			}
		}
	})
}

func TestCredentialsMembers(t *testing.T) {
	a := MustCredApp(t)
	a.MustUser(t, "mo", store.RoleMember)
	b := a.NewBrowser(t)
	b.MustLogin("mo")
	p := b.Get("/")
	if p.TestID("nav-credentials").Length() != 0 || p.TestID("nav-audit").Length() != 0 {
		t.Error("a member sees the Credentials or Audit log link")
	}
	for _, path := range []string{"/credentials", providerPath, "/audit"} {
		wantStatus(t, b.Get(path), http.StatusForbidden)
	}
	wantStatus(t, b.Post(providerPath, credentialForm("x", goodKey)), http.StatusForbidden)
	if len(a.find(t)) != 0 {
		t.Fatal("a member saved a credential")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestUninstallKeepsCredentials: uninstalling keeps a plugin's credentials
// for a reinstall, unless the admin ticks "also delete its credentials".
func TestUninstallKeepsCredentials(t *testing.T) {
	a := MustCredApp(t)
	b := a.admin(t)
	wantStatus(t, b.Post(providerPath, credentialForm("main", goodKey)), http.StatusSeeOther)
	if n := len(a.find(t)); n != 1 {
		t.Fatalf("%d credentials saved, want 1", n)
	}
	if b.Get("/plugins/plugboard/gotools").TestID("uninstall-delete-credentials").Length() != 1 {
		t.Fatal("the uninstall dialog offers no way to delete the credentials")
	}

	wantStatus(t, b.Post("/plugins/plugboard/gotools/uninstall", url.Values{}), http.StatusSeeOther)
	if p := b.Get("/"); !strings.Contains(p.Body, "credentials are kept") {
		t.Errorf("the page after does not say the credentials were kept: %.2000s", p.Body)
	}
	if n := len(a.find(t)); n != 1 {
		t.Fatalf("after a plain uninstall %d credentials, want 1 kept", n)
	}

	mustInstall(t, a.Daemon, MustGotools(t))
	wantStatus(t, b.Post("/plugins/plugboard/gotools/uninstall", url.Values{"delete_credentials": {"true"}}), http.StatusSeeOther)
	if n := len(a.find(t)); n != 0 {
		t.Fatalf("after an uninstall that deletes them, %d credentials remain", n)
	}
}
