package sse_test

import (
	"bufio"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/daemon/sse"
)

func TestEventFrames(t *testing.T) {
	cases := []struct {
		name, id, event string
		parts           []string
		want            string
	}{
		{"OKDataOnly", "", "", []string{`{"a":1}`}, "data: {\"a\":1}\n\n"},
		{"OKEmptyData", "", "done", nil, "event: done\ndata: \n\n"},
		{"OKIDAndName", "7", "message", []string{"<p>hi</p>"}, "id: 7\nevent: message\ndata: <p>hi</p>\n\n"},
		{"OKPartsJoined", "", "", []string{"data: {", `"x"`, "}"}, "data: data: {\"x\"}\n\n"},
		{"OKMultiLineLF", "", "message", []string{"one\ntwo\n"}, "event: message\ndata: one\ndata: two\ndata: \n\n"},
		{"OKMultiLineCRLF", "", "", []string{"one\r\ntwo"}, "data: one\ndata: two\n\n"},
		{"OKMultiLineCR", "", "", []string{"one\rtwo\r\rthree"}, "data: one\ndata: two\ndata: \ndata: three\n\n"},
		{"OKCRLFSplitBetweenParts", "", "", []string{"one\r", "\ntwo"}, "data: one\ndata: two\n\n"},
		{"OKUnicode", "", "", []string{"héllo ✓\u2028"}, "data: héllo ✓\u2028\n\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			w := sse.Start(rec)
			parts := make([][]byte, len(tc.parts))
			for i, p := range tc.parts {
				parts[i] = []byte(p)
			}
			if err := w.Event(tc.id, tc.event, parts...); err != nil {
				t.Fatal(err)
			}
			if got := rec.Body.String(); got != tc.want {
				t.Fatalf("frame = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStartHeaders(t *testing.T) {
	rec := httptest.NewRecorder()
	sse.Start(rec)
	h := rec.Result().Header
	if rec.Code != http.StatusOK || h.Get("Content-Type") != "text/event-stream" ||
		h.Get("Cache-Control") != "no-cache" || h.Get("X-Accel-Buffering") != "no" {
		t.Fatalf("status %d, headers %v", rec.Code, h)
	}
}

func TestComment(t *testing.T) {
	rec := httptest.NewRecorder()
	if err := sse.Start(rec).Comment("keep-alive"); err != nil {
		t.Fatal(err)
	}
	if got := rec.Body.String(); got != ": keep-alive\n\n" {
		t.Fatalf("comment = %q", got)
	}
}

func TestSingleLineFields(t *testing.T) {
	w := sse.Start(httptest.NewRecorder())
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"ErrIDLineBreak", w.Event("1\n2", "message")},
		{"ErrNameLineBreak", w.Event("", "mess\rage")},
		{"ErrCommentLineBreak", w.Comment("a\nb")},
	} {
		if !errors.Is(tc.err, sse.ErrLineBreak) {
			t.Errorf("%s: err = %v, want ErrLineBreak", tc.name, tc.err)
		}
	}
	if err := w.Event("1\x002", "message"); err == nil || !strings.Contains(err.Error(), "NUL") {
		t.Errorf("id with NUL: err = %v", err)
	}
}

// brokenWriter is a client connection that has gone away.
type brokenWriter struct {
	header http.Header
	writes int
}

var errGone = errors.New("connection reset by peer")

func (b *brokenWriter) Header() http.Header { return b.header }
func (b *brokenWriter) WriteHeader(int)     {}
func (b *brokenWriter) Write([]byte) (int, error) {
	b.writes++
	return 0, errGone
}

func TestWriteErrorSurfaces(t *testing.T) {
	bw := &brokenWriter{header: http.Header{}}
	w := sse.Start(bw)
	if err := w.Event("1", "message", []byte("x")); !errors.Is(err, errGone) {
		t.Fatalf("Event on a broken connection: err = %v, want %v", err, errGone)
	}
	// The error sticks: nothing more is written after a broken frame.
	if err := w.Comment("keep-alive"); !errors.Is(err, errGone) {
		t.Fatalf("Comment after the error: err = %v", err)
	}
	if err := w.Flush(); !errors.Is(err, errGone) {
		t.Fatalf("Flush after the error: err = %v", err)
	}
	if bw.writes != 1 {
		t.Fatalf("%d writes reached the connection, want 1", bw.writes)
	}
}

func TestFlushErrorSurfaces(t *testing.T) {
	// brokenWriter cannot flush: the ResponseController says so.
	w := sse.Start(&brokenWriter{header: http.Header{}})
	if err := w.Flush(); !errors.Is(err, http.ErrNotSupported) {
		t.Fatalf("Flush: err = %v, want ErrNotSupported", err)
	}
}

// TestFlushReachesClient: a flushed event reaches a real client while the
// handler is still running.
func TestFlushReachesClient(t *testing.T) {
	read := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w := sse.Start(rw)
		if err := w.Event("1", "message", []byte("a\nb")); err != nil {
			t.Error(err)
		}
		if err := w.Flush(); err != nil {
			t.Error(err)
		}
		<-read // the handler stays until the client has the event
	}))
	defer srv.Close()
	defer close(read)
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	var got string
	for !strings.HasSuffix(got, "\n\n") {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		got += line
	}
	if want := "id: 1\nevent: message\ndata: a\ndata: b\n\n"; got != want {
		t.Fatalf("client read %q, want %q", got, want)
	}
}
