package sse_test

import (
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard/daemon/sse"
)

// BenchmarkFrame measures what framing costs the daemon's API per tool
// message (write and flush through echo's Response, as dispatch does),
// against the hand framing it replaced: one append and a write beneath
// echo, a flush through a controller made once.
func BenchmarkFrame(b *testing.B) {
	prefix, suffix := []byte(`{"code":0,"message":"success","data":`), []byte("}")
	chunk := []byte(`{"type":"text","message":{"text":"word "},"meta":null}`)
	response := func() *echo.Response {
		return echo.NewResponse(discard{http.Header{}}, echo.New())
	}
	b.Run("Writer", func(b *testing.B) {
		w := sse.Start(response())
		b.ReportAllocs()
		for b.Loop() {
			if err := w.Event("", "", prefix, chunk, suffix); err != nil {
				b.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Hand", func(b *testing.B) {
		r := response()
		r.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(r.Writer)
		buf := make([]byte, 0, 1024)
		b.ReportAllocs()
		for b.Loop() {
			buf = append(append(append(append(buf[:0], "data: "...), prefix...), chunk...), suffix...)
			buf = append(buf, "\n\n"...)
			if _, err := r.Writer.Write(buf); err != nil {
				b.Fatal(err)
			}
			_ = rc.Flush()
		}
	})
}

// discard is a connection that takes everything at once.
type discard struct{ h http.Header }

func (d discard) Header() http.Header       { return d.h }
func (discard) WriteHeader(int)             {}
func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) FlushError() error           { return nil }
