package views_test

import (
	"strings"
	"testing"

	"github.com/plugboard/plugboard/views"
)

// TestRawEventPayloads renders the playground's raw view of each kind of
// message the browser tests do not stream (links, variables, a file that is
// not an image, an error, a refused call back): every one shows its type, size and time since
// the start, and its payload.
func TestRawEventPayloads(t *testing.T) {
	for _, c := range []struct {
		name string
		e    views.RunEventView
		sel  string // the payload's element
		want string // text the payload shows
	}{
		{"OKLink", views.RunEventView{Type: "link", Link: "https://example.com/a?b=c"},
			`a[data-testid="raw-link"][href="https://example.com/a?b=c"][rel="noopener noreferrer"]`, "https://example.com/a?b=c"},
		{"OKImageLink", views.RunEventView{Type: "image_link", Link: "https://example.com/cat.png"},
			`a[data-testid="raw-link"][href="https://example.com/cat.png"]`, "https://example.com/cat.png"},
		{"OKUnsafeLinkNeutralized", views.RunEventView{Type: "link", Link: "javascript:alert(1)"},
			`a[data-testid="raw-link"][href="about:blank"]`, "javascript:alert(1)"},
		{"OKVariable", views.RunEventView{Type: "variable", VarName: "answer", VarValue: "42"},
			`pre.raw-text`, "42"},
		{"OKStreamedVariable", views.RunEventView{Type: "variable", VarName: "answer", VarValue: "4", VarStream: true},
			`code + span.muted`, "(streamed chunk)"},
		{"OKFileNotImage", views.RunEventView{Type: "blob", FileURL: "/playground/files/1", MIME: "application/pdf", Filename: "report.pdf", Size: 2048},
			`a[data-testid="raw-file"][href="/playground/files/1"][download="report.pdf"]`, "report.pdf"},
		{"OKImage", views.RunEventView{Type: "blob", FileURL: "/playground/files/2", MIME: "image/png", Filename: "chart.png", Size: 10},
			`img[data-testid="raw-image"][src="/playground/files/2"]`, ""},
		{"OKError", views.RunEventView{Type: "error", Text: "the tool failed"},
			`pre.raw-error`, "the tool failed"},
		{"OKCallBackRefused", views.RunEventView{Type: "call_back", CallBack: &views.CallBackView{Type: "llm", Outcome: "error",
			Error: "permission denied, you need to enable llm access in plugin manifest", Ms: 3}},
			`[data-testid="raw-call-back"] [data-testid="call-back-error"]`, "permission denied"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.e.Seq, c.e.Bytes, c.e.Since, c.e.Stored = 3, 1536, 250, `{"stored":true}`
			doc := MustRender(t, views.RawEvent(c.e))
			msg := doc.Find(`[data-testid="raw-message"][data-seq="3"][data-type="` + c.e.Type + `"]`)
			if msg.Length() != 1 {
				t.Fatalf("no raw message of type %s: %s", c.e.Type, doc.Text())
			}
			if got := msg.Find(`[data-testid="raw-type"]`).Text(); got != c.e.Type {
				t.Errorf("type shown %q, want %q", got, c.e.Type)
			}
			if got := msg.Find(`[data-testid="raw-size"]`).Text(); got != "1.5 KiB" {
				t.Errorf("size shown %q, want 1.5 KiB", got)
			}
			if got := msg.Find(`[data-testid="raw-since"]`).Text(); got != "+250 ms" {
				t.Errorf("time since start shown %q, want +250 ms", got)
			}
			p := msg.Find(c.sel)
			if p.Length() != 1 || !strings.Contains(p.Text(), c.want) {
				t.Fatalf("payload %s with %q not found in %s", c.sel, c.want, goqueryHTML(t, msg))
			}
			if !strings.Contains(msg.Find("details.raw-stored pre").Text(), `{"stored":true}`) {
				t.Errorf("the stored message is not shown beside the payload")
			}
		})
	}
}

func goqueryHTML(tb testing.TB, s interface{ Html() (string, error) }) string {
	tb.Helper()
	h, err := s.Html()
	if err != nil {
		tb.Fatal(err)
	}
	return h
}
