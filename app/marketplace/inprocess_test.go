package marketplace_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/plugboard/plugboard/app/marketplace"
)

func TestInProcess(t *testing.T) {
	h := http.NewServeMux()
	h.HandleFunc("GET /missing", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Seen", r.URL.Query().Get("q"))
		http.Error(w, "no such thing", http.StatusNotFound)
	})
	h.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	hc := marketplace.InProcess(h)
	for _, c := range []struct {
		path, body, seen string
		status           int
	}{{"/missing?q=x", "no such thing\n", "x", 404}, {"/ok", "hello", "", 200}} {
		resp, err := hc.Get("http://in.process.invalid" + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || string(body) != c.body || resp.Header.Get("X-Seen") != c.seen {
			t.Errorf("%s: %d %q X-Seen=%q; want %d %q %q", c.path, resp.StatusCode, body, resp.Header.Get("X-Seen"), c.status, c.body, c.seen)
		}
		if resp.ContentLength != int64(len(c.body)) {
			t.Errorf("%s: Content-Length %d, want %d", c.path, resp.ContentLength, len(c.body))
		}
	}
}
