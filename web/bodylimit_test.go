package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/plugboard/plugboard/store"
)

// huge is the size of the bodies sent at the limits: far past any of them.
const huge = 100 << 20

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// hugeMultipart is a multipart body of a username field and one part of
// size bytes, a file when filename is not "", read as it is sent.
func hugeMultipart(part, filename string, size int64) (*countingReader, string) {
	const boundary = "plugboard-test-boundary"
	disposition := `form-data; name="` + part + `"`
	if filename != "" {
		disposition += `; filename="` + filename + `"`
	}
	head := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nroot\r\n" +
		"--" + boundary + "\r\nContent-Disposition: " + disposition + "\r\n\r\n"
	tail := "\r\n--" + boundary + "--\r\n"
	body := io.MultiReader(strings.NewReader(head), io.LimitReader(zeros{}, size), strings.NewReader(tail))
	return &countingReader{r: body}, "multipart/form-data; boundary=" + boundary
}

// serveMeasured serves req in-process and returns the answer, how many
// bytes of body were read and how many bytes were allocated meanwhile.
func serveMeasured(h http.Handler, req *http.Request, body *countingReader) (*httptest.ResponseRecorder, int64, uint64) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	runtime.ReadMemStats(&after)
	return rec, body.n, after.TotalAlloc - before.TotalAlloc
}

// signIn copies a signed-in browser's cookies and CSRF token onto req.
func (b *Browser) signIn(req *http.Request) {
	u, _ := url.Parse(b.app.URL)
	for _, c := range b.hc.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	req.Header.Set("X-CSRF-Token", b.csrf)
}

// TestBodyLimit: a body past its route's limit is refused with 413 before
// anything reads it whole — the CSRF check included, which reads the form
// — so a huge anonymous sign-in or a huge upload neither is read past the
// limit nor costs memory in proportion to its size.
func TestBodyLimit(t *testing.T) {
	app := MustApp(t, deadDaemon)
	app.MustUser(t, "root", store.RoleOwner)
	// read is how far past a limit the readers may look ahead.
	const readSlack = 64 << 10
	// memory is what one refused request may allocate, far under huge.
	const memory = 8 << 20

	t.Run("ErrAnonymousLoginHuge", func(t *testing.T) {
		body, ct := hugeMultipart("password", "", huge)
		req := httptest.NewRequest(http.MethodPost, "/login", body)
		req.Header.Set("Content-Type", ct)
		rec, read, alloc := serveMeasured(app.Handler, req, body)
		t.Logf("read %d KiB, allocated %d KiB", read>>10, alloc>>10)
		if read > 1<<20+readSlack {
			t.Errorf("read %d bytes of the body; the limit is 1 MiB", read)
		}
		if alloc > memory {
			t.Errorf("allocated %d MiB for a refused %d MiB body", alloc>>20, huge>>20)
		}
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413: %.300s", rec.Code, rec.Body)
		}
		p := parsePage(t, rec)
		if st, _ := p.TestID("error-page").Attr("data-status"); st != "413" {
			t.Fatalf("no 413 error page: %.300s", rec.Body)
		}
		if got := p.TestID("error-message").Text(); got != "This request is too large: a form may be at most 1 MiB." {
			t.Fatalf("message %q", got)
		}
	})
	t.Run("ErrDeclaredLengthNotRead", func(t *testing.T) {
		body, ct := hugeMultipart("password", "", huge)
		req := httptest.NewRequest(http.MethodPost, "/login", body)
		req.Header.Set("Content-Type", ct)
		req.ContentLength = huge
		rec, read, _ := serveMeasured(app.Handler, req, body)
		if rec.Code != http.StatusRequestEntityTooLarge || read != 0 {
			t.Fatalf("status %d after reading %d bytes; want 413 before reading any", rec.Code, read)
		}
	})
	t.Run("ErrURLEncodedHuge", func(t *testing.T) {
		body := &countingReader{r: io.MultiReader(strings.NewReader("username=root&password="), io.LimitReader(zeros{}, huge))}
		req := httptest.NewRequest(http.MethodPost, "/login", body)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec, read, _ := serveMeasured(app.Handler, req, body)
		if rec.Code != http.StatusRequestEntityTooLarge || read > 1<<20+readSlack {
			t.Fatalf("status %d after reading %d bytes; want 413 within 1 MiB", rec.Code, read)
		}
	})

	b := app.NewBrowser(t)
	b.MustLogin("root")
	b.Get("/")
	t.Run("ErrSignedInUploadHuge", func(t *testing.T) {
		body, ct := hugeMultipart("package", "big.difypkg", huge)
		req := httptest.NewRequest(http.MethodPost, "/plugins/upload", body)
		req.Header.Set("Content-Type", ct)
		b.signIn(req)
		rec, read, alloc := serveMeasured(app.Handler, req, body)
		t.Logf("read %d KiB, allocated %d KiB", read>>10, alloc>>10)
		if read > 15<<20+readSlack*2 {
			t.Errorf("read %d bytes of the body; the limit is 15 MiB", read)
		}
		if alloc > memory {
			t.Errorf("allocated %d MiB for a refused upload (file parts must go to disk)", alloc>>20)
		}
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413: %.300s", rec.Code, rec.Body)
		}
		p := parsePage(t, rec)
		if got := p.TestID("error-message").Text(); got != "This request is too large: a plugin package may be at most 15 MiB." {
			t.Fatalf("message %q", got)
		}
		if p.TestID("current-user").Text() != "root" {
			t.Error("the error page lost the signed-in user's layout")
		}
	})
	t.Run("ErrHTMXGetsText", func(t *testing.T) {
		body, ct := hugeMultipart("package", "big.difypkg", huge)
		req := httptest.NewRequest(http.MethodPost, "/plugins/upload", body)
		req.Header.Set("Content-Type", ct)
		req.Header.Set("HX-Request", "true")
		b.signIn(req)
		rec, _, _ := serveMeasured(app.Handler, req, body)
		if rec.Code != http.StatusRequestEntityTooLarge || rec.Body.String() != "This request is too large: a plugin package may be at most 15 MiB." {
			t.Fatalf("status %d, body %q", rec.Code, rec.Body)
		}
	})
	t.Run("ErrPlaygroundFilesTogether", func(t *testing.T) {
		body, ct := hugeMultipart("p.file", "big.bin", huge)
		req := httptest.NewRequest(http.MethodPost, "/playground/runs", body)
		req.Header.Set("Content-Type", ct)
		b.signIn(req)
		rec, read, _ := serveMeasured(app.Handler, req, body)
		if rec.Code != http.StatusRequestEntityTooLarge || read > 60<<20+readSlack*2 {
			t.Fatalf("status %d after reading %d bytes; want 413 within 60 MiB", rec.Code, read)
		}
		if got := parsePage(t, rec).TestID("error-message").Text(); got != "This request is too large: the files of one run together may be at most 60 MiB." {
			t.Fatalf("message %q", got)
		}
	})
	t.Run("ErrUploadRouteNotMultipart", func(t *testing.T) {
		// Only a multipart form takes an upload route's larger limit.
		body := &countingReader{r: io.MultiReader(strings.NewReader("pick=x&p.text="), io.LimitReader(zeros{}, huge))}
		req := httptest.NewRequest(http.MethodPost, "/playground/runs", body)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		b.signIn(req)
		rec, read, _ := serveMeasured(app.Handler, req, body)
		if rec.Code != http.StatusRequestEntityTooLarge || read > 1<<20+readSlack {
			t.Fatalf("status %d after reading %d bytes; want 413 within 1 MiB", rec.Code, read)
		}
	})
	t.Run("ErrMalformedForm", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader("--x\r\nno headers"))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
		rec := httptest.NewRecorder()
		app.Handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "The form could not be read") {
			t.Fatalf("status %d: %.300s", rec.Code, rec.Body)
		}
	})
}

// parsePage reads a recorded answer as a page.
func parsePage(tb testing.TB, rec *httptest.ResponseRecorder) *Page {
	tb.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	if err != nil {
		tb.Fatal(err)
	}
	return &Page{Response: rec.Result(), Doc: doc, Body: rec.Body.String()}
}
