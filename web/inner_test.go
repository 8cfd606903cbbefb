package web_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/daemon/innerapi"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/web"
)

const innerKey = "inner-test-key"

// innerCall POSTs a call back as the daemon does and returns the reply.
func innerCall(t *testing.T, base, key, path, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+innerapi.Prefix+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(innerapi.HeaderPlugin, "plugboard/callbacks")
	req.Header.Set(innerapi.HeaderCallDepth, "1")
	if key != "" {
		req.Header.Set(innerapi.HeaderKey, key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func envelope(t *testing.T, r io.Reader) innerapi.Response {
	t.Helper()
	var env innerapi.Response
	if err := json.NewDecoder(r).Decode(&env); err != nil {
		t.Fatal(err)
	}
	return env
}

func TestInnerAPI(t *testing.T) {
	app := MustAppWith(t, deadDaemon, func(c *web.Config) { c.InnerAPIKey = innerKey })
	t.Run("ErrNoKeyConfigured", func(t *testing.T) {
		off := MustApp(t, deadDaemon)
		if resp := innerCall(t, off.URL, innerKey, innerapi.PathSummary, `{"text":"hi"}`); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d, want 404 without a key configured", resp.StatusCode)
		}
	})
	t.Run("ErrWrongKey", func(t *testing.T) {
		for _, key := range []string{"", "nope"} {
			resp := innerCall(t, app.URL, key, innerapi.PathSummary, `{"text":"hi"}`)
			if env := envelope(t, resp.Body); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(env.Error, "key") || env.HasData() {
				t.Fatalf("key %q: status %d, %+v", key, resp.StatusCode, env)
			}
		}
	})
	t.Run("OKUnary", func(t *testing.T) {
		resp := innerCall(t, app.URL, innerKey, innerapi.PathSummary, `{"text":"hi","user_id":"alice"}`)
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || string(b) != `{"data":{"summary":"hi"},"error":""}` {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
	})
	t.Run("ErrUnknownPath", func(t *testing.T) {
		resp := innerCall(t, app.URL, innerKey, "invoke/nothing", `{}`)
		if env := envelope(t, resp.Body); resp.StatusCode != http.StatusNotFound || !strings.Contains(env.Error, "invoke/nothing") {
			t.Fatalf("status %d, %+v", resp.StatusCode, env)
		}
	})
	t.Run("ErrStreamedUnavailable", func(t *testing.T) {
		resp := innerCall(t, app.URL, innerKey, innerapi.PathApp, `{"app_id":"x"}`)
		fr := innerapi.NewFrameReader(resp.Body)
		frame, err := fr.Next()
		if resp.StatusCode != http.StatusOK || err != nil {
			t.Fatalf("status %d, frame %v", resp.StatusCode, err)
		}
		var env innerapi.Response
		if json.Unmarshal(frame, &env) != nil || env.HasData() || env.Error != "Invoking a Dify app is not available in Plugboard." {
			t.Fatalf("frame %s", frame)
		}
		if _, err := fr.Next(); err != io.EOF {
			t.Fatalf("after the error frame: %v, want the end", err)
		}
	})
	t.Run("OKUploadAndDownload", func(t *testing.T) {
		resp := innerCall(t, app.URL, innerKey, innerapi.PathUploadFile, `{"filename":"report.txt","mimetype":"text/plain","user_id":"alice"}`)
		var got struct{ URL string }
		if env := envelope(t, resp.Body); json.Unmarshal(env.Data, &got) != nil || !strings.HasPrefix(got.URL, app.URL+"/files/upload/for-plugin/") {
			t.Fatalf("upload request: %+v", env)
		}
		post := func() *http.Response {
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			fw, _ := mw.CreateFormFile("file", "report.txt")
			fw.Write([]byte("the report"))
			mw.Close()
			resp, err := http.Post(got.URL, mw.FormDataContentType(), &body)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { resp.Body.Close() })
			return resp
		}
		resp = post()
		var file struct {
			ID, Name, Extension, Type string
			Size                      int
			MIMEType                  string `json:"mime_type"`
			PreviewURL                string `json:"preview_url"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&file); err != nil || resp.StatusCode != http.StatusCreated ||
			file.Name != "report.txt" || file.Size != 10 || file.MIMEType != "text/plain" || file.Type != "document" || file.ID == "" {
			t.Fatalf("upload: status %d, %+v, %v", resp.StatusCode, file, err)
		}
		dl, err := http.Get(file.PreviewURL)
		if err != nil {
			t.Fatal(err)
		}
		defer dl.Body.Close()
		b, _ := io.ReadAll(dl.Body)
		if dl.StatusCode != http.StatusOK || string(b) != "the report" || !strings.HasPrefix(dl.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("download: %d %q %v", dl.StatusCode, b, dl.Header)
		}
		if again := post(); again.StatusCode != http.StatusNotFound {
			t.Fatalf("a second upload: status %d, want 404", again.StatusCode)
		}
	})
}

// TestInstallPreviewPermissions uploads the callbacks example and pytools
// and reads, in each preview, what the plugin may call back for.
func TestInstallPreviewPermissions(t *testing.T) {
	daemonURL, _ := MustDaemon(t)
	app := MustApp(t, daemonURL)
	app.MustUser(t, "ann", store.RoleAdmin)
	b := app.NewBrowser(t)
	b.MustLogin("ann")
	pack := func(dir string) []byte {
		data, _, err := pkgfmt.Pack(os.DirFS(dir), pkgfmt.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	t.Run("OKCallbacks", func(t *testing.T) {
		b.Get("/")
		p := b.PostFile("/plugins/upload", "callbacks.difypkg", pack("../examples/plugins/callbacks"))
		got := strings.TrimSpace(p.TestID("permission-summary").Text())
		if got != "May call LLMs, other tools, storage up to 1 MiB." {
			t.Fatalf("permissions %q", got)
		}
	})
	t.Run("OKNone", func(t *testing.T) {
		b.Get("/")
		p := b.PostFile("/plugins/upload", "pytools.difypkg", MustPytools(t))
		if p.TestID("permission-none").Length() != 1 || p.TestID("permission-summary").Length() != 0 {
			t.Fatalf("permissions: %.400s", p.TestID("preview-permissions").Text())
		}
	})
}
