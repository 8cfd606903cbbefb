package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
)

const fileInfoPick = "plugboard/gotools:gotools:file_info"

// upload is one file of a multipart form.
type upload struct {
	Field, Name, MIME string
	Data              []byte
}

// PostMultipart submits a form with files as the playground's form does,
// adding the CSRF token of the last page.
func (b *Browser) PostMultipart(path string, fields url.Values, files ...upload) *Page {
	b.tb.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("_csrf", b.csrf)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="`+f.Field+`"; filename="`+f.Name+`"`)
		h.Set("Content-Type", f.MIME)
		w, _ := mw.CreatePart(h)
		w.Write(f.Data)
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.app.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.Do(req)
}

// mustRunJSON follows a run to its end and returns its one json message.
func mustRunJSON(tb testing.TB, b *Browser, a *CredApp, loc string) (*store.Run, map[string]any) {
	tb.Helper()
	if names, data := readEvents(tb, b, a, loc+"/events", ""); names[len(names)-1] != "done" {
		tb.Fatalf("events %v do not end with done: %.500s", names, data)
	}
	r, err := a.Store.FindRun(context.Background(), strings.TrimPrefix(loc, "/playground/runs/"))
	if err != nil {
		tb.Fatal(err)
	}
	evs, err := a.Store.RunEvents(context.Background(), r.ID, 0)
	if err != nil {
		tb.Fatal(err)
	}
	for _, ev := range evs {
		var p struct{ JSON map[string]any }
		if ev.Type == "json" && json.Unmarshal(ev.Payload, &p) == nil {
			return r, p.JSON
		}
	}
	tb.Fatalf("run %s (%s %q) has no json message: %+v", r.ID, r.Status, r.Error, evs)
	return nil, nil
}

func TestPlaygroundFiles(t *testing.T) {
	a := MustCredApp(t)
	b := a.admin(t)
	pick := url.Values{"pick": {fileInfoPick}}

	t.Run("OKFormTakesFile", func(t *testing.T) {
		p := b.Get("/playground?pick=" + url.QueryEscape(fileInfoPick))
		wantStatus(t, p, http.StatusOK)
		if p.TestID("tool-form").AttrOr("enctype", "") != "multipart/form-data" {
			t.Error("the tool form does not post multipart")
		}
		if p.Doc.Find(`input[type=file][name="p.file"][required]`).Length() != 1 {
			t.Errorf("no required file input:\n%.800s", p.TestID("param-file").Text())
		}
		if got := p.TestID("file-limit-file").Text(); !strings.Contains(got, "15 MiB") {
			t.Errorf("limit shown as %q", got)
		}
	})
	t.Run("OKPluginDownloadsFile", func(t *testing.T) {
		data := bytes.Repeat([]byte("plugboard file\n"), 1000)
		sum := sha256.Sum256(data)
		b.Get("/playground?pick=" + url.QueryEscape(fileInfoPick))
		p := b.PostMultipart("/playground/runs", pick, upload{Field: "p.file", Name: "notes.txt", MIME: "text/plain", Data: data})
		wantStatus(t, p, http.StatusSeeOther)
		r, got := mustRunJSON(t, b, a, p.Header.Get("Location"))
		if got["sha256"] != hex.EncodeToString(sum[:]) || got["size"] != float64(len(data)) ||
			got["filename"] != "notes.txt" || got["mime_type"] != "text/plain" {
			t.Fatalf("file_info answered %v", got)
		}
		stored, _ := json.Marshal(r.Params["file"])
		if want := `{"filename":"notes.txt","mime_type":"text/plain","size":15000}`; string(stored) != want {
			t.Errorf("history keeps %s, want %s", stored, want)
		}
		curl := b.Get(p.Header.Get("Location")).TestID("curl-command").Text()
		link := regexp.MustCompile(`"url": "(http://[^"]+/playground/files/[0-9a-f]+)"`).FindStringSubmatch(curl)
		if link == nil {
			t.Fatalf("the curl command gives no download URL for the file:\n%s", curl)
		}
		res, err := http.Get(link[1])
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
			t.Errorf("the curl's file URL answered %d with %d bytes", res.StatusCode, len(body))
		}
	})
	t.Run("ErrDownloadWithoutToken", func(t *testing.T) {
		anon := a.NewBrowser(t)
		for _, path := range []string{"/playground/files/nope", "/playground/files/" + strings.Repeat("0", 64)} {
			wantStatus(t, anon.Get(path), http.StatusNotFound)
		}
	})
	t.Run("ErrFileRequired", func(t *testing.T) {
		b.Get("/playground?pick=" + url.QueryEscape(fileInfoPick))
		p := b.PostMultipart("/playground/runs", pick)
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if got := p.TestID("error-p.file").Text(); got != "file is required: choose a file." {
			t.Errorf("field error %q", got)
		}
	})
	t.Run("ErrFileTooLarge", func(t *testing.T) {
		runs, _, _ := a.Store.FindRuns(context.Background(), store.RunFilter{})
		b.Get("/playground?pick=" + url.QueryEscape(fileInfoPick))
		big := make([]byte, views.PlaygroundFileLimit+1)
		p := b.PostMultipart("/playground/runs", pick, upload{Field: "p.file", Name: "big.bin", MIME: "application/octet-stream", Data: big})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if got := p.TestID("error-p.file").Text(); !strings.Contains(got, "big.bin") || !strings.Contains(got, "over the 15 MiB limit") {
			t.Errorf("field error %q", got)
		}
		if after, _, _ := a.Store.FindRuns(context.Background(), store.RunFilter{}); len(after) != len(runs) {
			t.Errorf("a refused upload recorded a run (%d → %d)", len(runs), len(after))
		}
	})
}
