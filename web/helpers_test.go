package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/web"
	"github.com/plugboard/plugboard/web/guard"
	"golang.org/x/crypto/bcrypt"
)

// deadDaemon is an address nothing listens on: the daemon is "down".
const deadDaemon = "http://127.0.0.1:1"

// App is a running admin app on a fresh database.
type App struct {
	URL   string
	Store *store.DB
	// Handler is the app itself, for requests served in-process.
	Handler http.Handler
}

// MustApp starts the admin app in a test server, its daemon client pointed
// at daemonURL.
func MustApp(tb testing.TB, daemonURL string) *App {
	tb.Helper()
	return MustAppWith(tb, daemonURL, nil)
}

// MustAppWith is MustApp with changes to the configuration (nil: none).
func MustAppWith(tb testing.TB, daemonURL string, configure func(*web.Config)) *App {
	tb.Helper()
	dir := tb.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, "plugboard.db"))
	if err != nil {
		tb.Fatal(err)
	}
	db.HashCost = bcrypt.MinCost
	keys, err := guard.LoadSessionKeys(filepath.Join(dir, "session-keys"))
	if err != nil {
		tb.Fatal(err)
	}
	cfg := web.Config{Store: db, Daemon: client.New(daemonURL, "test-key"), DaemonURL: daemonURL, SessionKeys: keys}
	if configure != nil {
		configure(&cfg)
	}
	h := web.New(cfg)
	srv := httptest.NewServer(h)
	tb.Cleanup(func() { srv.Close(); h.Close(); db.Close() })
	return &App{URL: srv.URL, Store: db, Handler: h}
}

// MustUser adds a user with password "password-<name>".
func (a *App) MustUser(tb testing.TB, name string, role store.Role) {
	tb.Helper()
	if _, err := a.Store.CreateUser(context.Background(), store.NewUser{Username: name, Password: "password-" + name, Role: role}); err != nil {
		tb.Fatal(err)
	}
}

// Browser is an HTTP client with cookies that does not follow redirects and
// remembers the last page's CSRF token.
type Browser struct {
	tb   testing.TB
	app  *App
	hc   *http.Client
	csrf string
}

// NewBrowser returns a browser with an empty cookie jar.
func (a *App) NewBrowser(tb testing.TB) *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{tb: tb, app: a, hc: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Page is a response with its parsed HTML.
type Page struct {
	*http.Response
	Doc  *goquery.Document
	Body string
}

// TestID finds elements by data-testid.
func (p *Page) TestID(id string) *goquery.Selection {
	return p.Doc.Find(`[data-testid="` + id + `"]`)
}

// Do sends a request and parses the answer.
func (b *Browser) Do(req *http.Request) *Page {
	b.tb.Helper()
	resp, err := b.hc.Do(req)
	if err != nil {
		b.tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	if err != nil {
		b.tb.Fatal(err)
	}
	if tok, ok := doc.Find(`input[name="_csrf"]`).First().Attr("value"); ok {
		b.csrf = tok
	}
	return &Page{Response: resp, Doc: doc, Body: string(body)}
}

// Get fetches a path.
func (b *Browser) Get(path string) *Page {
	req, _ := http.NewRequest(http.MethodGet, b.app.URL+path, nil)
	return b.Do(req)
}

// Post submits a form, adding the CSRF token of the last page.
func (b *Browser) Post(path string, form url.Values) *Page {
	form.Set("_csrf", b.csrf)
	return b.PostRaw(path, form)
}

// PostRaw submits a form as it is.
func (b *Browser) PostRaw(path string, form url.Values) *Page {
	req, _ := http.NewRequest(http.MethodPost, b.app.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.Do(req)
}

// MustLogin signs in (loading /login for its CSRF token first).
func (b *Browser) MustLogin(name string) {
	b.tb.Helper()
	b.Get("/login")
	p := b.Post("/login", url.Values{"username": {name}, "password": {"password-" + name}})
	if p.StatusCode != http.StatusSeeOther {
		b.tb.Fatalf("login as %s: status %d: %s", name, p.StatusCode, p.TestID("form-error").Text())
	}
	// Signing in replaced the CSRF token; the next page would carry it.
	for _, c := range p.Cookies() {
		if c.Name == "plugboard_csrf" {
			b.csrf = c.Value
		}
	}
}

// wantStatus fails the test unless the page has the status.
func wantStatus(tb testing.TB, p *Page, status int) {
	tb.Helper()
	if p.StatusCode != status {
		tb.Fatalf("%s %s: status %d, want %d\n%.600s", p.Request.Method, p.Request.URL.Path, p.StatusCode, status, p.Body)
	}
}

// wantRedirect fails the test unless the page redirects to path.
func wantRedirect(tb testing.TB, p *Page, path string) {
	tb.Helper()
	wantStatus(tb, p, http.StatusSeeOther)
	if loc := p.Header.Get("Location"); loc != path {
		tb.Fatalf("redirect to %q, want %q", loc, path)
	}
}
