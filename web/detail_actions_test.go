package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/plugboard/plugboard/store"
)

// TestPluginDetailActions: each tool links to the playground with it
// picked; a provider whose required credential is missing is warned about
// on the detail page and in the playground, with "Add credential" for
// admins only; once one is stored the warning goes.
func TestPluginDetailActions(t *testing.T) {
	a := MustCredApp(t)
	admin := a.admin(t)
	a.MustUser(t, "mo", store.RoleMember)
	member := a.NewBrowser(t)
	member.MustLogin("mo")
	const detail = "/plugins/plugboard/gotools"

	t.Run("OKRunInPlayground", func(t *testing.T) {
		p := admin.Get(detail)
		wantStatus(t, p, http.StatusOK)
		tools := p.TestID("detail-tool")
		if tools.Length() == 0 {
			t.Fatal("no tools listed")
		}
		tools.Each(func(_ int, tool *goquery.Selection) {
			name := tool.AttrOr("data-tool", "")
			href := tool.Find(`[data-testid="tool-run"]`).AttrOr("href", "")
			if want := "/playground?pick=" + url.QueryEscape("plugboard/gotools:gotools:"+name); href != want {
				t.Errorf("tool %s: Run in playground goes to %q, want %q", name, href, want)
			}
			if page := admin.Get(href); page.TestID("tool-form").AttrOr("data-tool", "") != "plugboard/gotools:gotools:"+name {
				t.Errorf("the playground did not open %s picked", name)
			}
		})
	})
	t.Run("OKMissingCredentialWarned", func(t *testing.T) {
		p := admin.Get(detail)
		warn := p.TestID("credential-missing")
		if warn.Length() != 1 || !strings.Contains(warn.Text(), "API key") {
			t.Fatalf("detail warning = %q", warn.Text())
		}
		if href := warn.Find(`[data-testid="credential-missing-add"]`).AttrOr("href", ""); href != providerPath+"#add-credential" {
			t.Fatalf("Add credential goes to %q", href)
		}
		if n := p.Doc.Find(`a:contains("Add credential")`).Length(); n != 1 {
			t.Errorf("%d Add credential links, want 1", n)
		}
		pg := admin.Get("/playground?pick=" + url.QueryEscape("plugboard/gotools:gotools:stream_text"))
		if pg.TestID("credential-missing").Length() != 1 || pg.TestID("credential-missing-add").Length() != 1 {
			t.Fatal("the playground does not warn that the credential is missing")
		}
	})
	t.Run("OKMemberWarnedWithoutAdd", func(t *testing.T) {
		p := member.Get(detail)
		if w := p.TestID("credential-missing"); w.Length() != 1 || !strings.Contains(w.Text(), "Ask an admin") {
			t.Fatalf("member's warning = %q", w.Text())
		}
		if p.TestID("credential-missing-add").Length()+p.TestID("provider-add-credential").Length() != 0 {
			t.Fatal("a member is offered Add credential")
		}
		if p.TestID("tool-run").Length() == 0 {
			t.Fatal("a member has no Run in playground")
		}
	})
	t.Run("OKStoredCredentialClearsWarning", func(t *testing.T) {
		admin.Get(providerPath)
		wantRedirect(t, admin.Post(providerPath, credentialForm("main", goodKey)), providerPath)
		p := admin.Get(detail)
		if p.TestID("credential-missing").Length() != 0 {
			t.Fatal("the warning stays with a credential stored")
		}
		if href := p.TestID("provider-add-credential").AttrOr("href", ""); href != providerPath+"#add-credential" {
			t.Fatalf("Add credential goes to %q", href)
		}
		if got := p.TestID("provider-credentials").AttrOr("data-count", ""); got != "1" {
			t.Fatalf("stored count %q", got)
		}
		pg := admin.Get("/playground?pick=" + url.QueryEscape("plugboard/gotools:gotools:stream_text"))
		if pg.TestID("credential-missing").Length() != 0 {
			t.Fatal("the playground still warns")
		}
	})
}

// TestCredentialSaveIsATest: a credential the plugin accepted on save is
// shown as tested and passed, never "not tested" beside "the plugin
// accepted it".
func TestCredentialSaveIsATest(t *testing.T) {
	a := MustCredApp(t)
	b := a.admin(t)
	b.Get(providerPath)
	p := b.Post(providerPath, credentialForm("prod", goodKey))
	wantRedirect(t, p, providerPath)
	page := b.Get(providerPath)
	if !strings.Contains(page.TestID("flash-success").Text(), "the plugin accepted it") {
		t.Fatalf("flash %q", page.TestID("flash-success").Text())
	}
	if st := page.TestID("test-status").AttrOr("data-status", ""); st != "ok" {
		t.Fatalf("after a save the plugin accepted, test status %q (%q), want ok", st, page.TestID("test-status").Text())
	}
	id := itoa(a.find(t)[0].ID)
	b.Get(providerPath + "/" + id + "/edit")
	wantRedirect(t, b.Post(providerPath+"/"+id, credentialForm("prod", otherKey)), providerPath)
	if c := a.find(t)[0]; c.TestedAt.IsZero() || !c.TestOK {
		t.Fatalf("an accepted edit is not recorded as tested: %+v", c)
	}
}

// TestCredentialRetypeSecret: a rejected form keeps the non-secret fields
// as typed, never sends the typed secret back, and says to type it again.
func TestCredentialRetypeSecret(t *testing.T) {
	a := MustCredApp(t)
	b := a.admin(t)
	b.Get(providerPath)
	p := b.Post(providerPath, credentialForm("bad", "nope-Sup3rWrongKey"))
	wantStatus(t, p, http.StatusUnprocessableEntity)
	if strings.Contains(p.Body, "Sup3rWrongKey") {
		t.Fatal("the typed key was sent back")
	}
	if got := p.TestID("error-f_api_key").Text(); !strings.Contains(got, "Type it again") {
		t.Fatalf("key field says %q", got)
	}
	if v := p.Doc.Find(`input[name=f_account]`).AttrOr("value", ""); v != "acme" {
		t.Fatalf("account field = %q, want what was typed", v)
	}
	if v := p.Doc.Find(`input[name=name]`).AttrOr("value", ""); v != "bad" {
		t.Fatalf("name field = %q, want what was typed", v)
	}
}
