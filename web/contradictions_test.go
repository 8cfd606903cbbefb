package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/plugboard/plugboard/store"
)

// TestNoContradictions pins the pages that said one thing twice or two
// things at once (issue 11 item 9); the credential case is
// TestCredentialSaveIsATest, the version labels are views tests.
func TestNoContradictions(t *testing.T) {
	daemonURL, _ := MustDaemon(t)
	app := MustApp(t, daemonURL)
	app.MustUser(t, "ann", store.RoleOwner)
	b := app.NewBrowser(t)
	b.MustLogin("ann")

	t.Run("OKEmptyPluginsPageSaysLimitOnce", func(t *testing.T) {
		p := b.Get("/")
		wantStatus(t, p, http.StatusOK)
		if p.TestID("plugins-empty").Length() != 1 {
			t.Fatal("not the empty page")
		}
		shown := p.Doc.Find("main").Clone()
		shown.Find(`[hidden]`).Remove() // the drop overlay shows only while dragging
		text := shown.Text()
		if n := strings.Count(text, "15 MiB"); n != 1 {
			t.Errorf("the limit is stated %d times, want once:\n%s", n, text)
		}
		if n := strings.Count(strings.ToLower(text), "drop"); n != 1 {
			t.Errorf("dropping is offered %d times, want once", n)
		}
		if sizes := regexp.MustCompile(`\d+ [KMG]iB`).FindAllString(text, -1); len(sizes) != 1 {
			t.Errorf("sizes on the page: %q", sizes)
		}
	})
	t.Run("OKEveryHxIncludeFindsItsElements", func(t *testing.T) {
		p := b.Get("/")
		p.Doc.Find("[hx-include]").Each(func(_ int, s *goquery.Selection) {
			sel := s.AttrOr("hx-include", "")
			if p.Doc.Find(sel).Length() == 0 {
				t.Errorf("%s has hx-include=%q, which matches nothing on the page", goquery.NodeName(s), sel)
			}
		})
	})
	t.Run("OKNotAZipSaidOnce", func(t *testing.T) {
		b.Get("/")
		p := b.PostFile("/plugins/upload", "x.difypkg", []byte("plain text"))
		wantStatus(t, p, http.StatusUnprocessableEntity)
		msg := p.TestID("upload-error-message").Text()
		if n := strings.Count(msg, "not a valid zip file"); n != 1 {
			t.Fatalf("message %q says it %d times", msg, n)
		}
	})
	t.Run("OKNothingInstalledSaidOnce", func(t *testing.T) {
		b.Get("/")
		p := b.PostFile("/plugins/upload", "bad.difypkg", MustTampered(t, MustSigned(t, 0)))
		wantRefused(t, p, "signature is invalid")
		if n := strings.Count(p.Doc.Text(), "Nothing was installed."); n != 1 {
			t.Fatalf("%q said %d times:\n%s", "Nothing was installed.", n, p.Doc.Text())
		}
	})
	t.Run("OKJustOverLimitNamesTwoSizes", func(t *testing.T) {
		b.Get("/")
		p := b.PostFile("/plugins/upload", "big.difypkg", make([]byte, 15<<20+1))
		wantStatus(t, p, http.StatusUnprocessableEntity)
		msg := p.TestID("upload-error-message").Text()
		if msg != "The package is 15728641 bytes; the limit is 15 MiB (15728640 bytes)." {
			t.Fatalf("message %q", msg)
		}
	})
}

// TestPlaygroundFileFieldOneLimit: the file field of gotools' file_info
// states one size limit (the playground's, per file), not the playground's
// beside another one from the tool's description.
func TestPlaygroundFileFieldOneLimit(t *testing.T) {
	a := MustCredApp(t)
	b := a.admin(t)
	p := b.Get("/playground?pick=plugboard/gotools:gotools:file_info")
	wantStatus(t, p, http.StatusOK)
	field := p.TestID("param-file")
	if field.Length() != 1 {
		t.Fatal("no file field")
	}
	if sizes := regexp.MustCompile(`\d+ [KMG]iB`).FindAllString(field.Text(), -1); len(sizes) != 1 || sizes[0] != "15 MiB" {
		t.Fatalf("the file field states the sizes %q, want only 15 MiB:\n%s", sizes, field.Text())
	}
}
