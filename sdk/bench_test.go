package sdk_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"testing"

	"github.com/plugboard/plugboard/sdk"
)

// BenchmarkRoundTrip measures one request → one text chunk → end through
// io.Pipe (and through OS pipes, as a plugin process sees them), with quick
// handlers answered on the reader goroutine (the default) and with a
// goroutine per request.
func BenchmarkRoundTrip(b *testing.B) {
	b.Run("Inline", func(b *testing.B) { benchRoundTrip(b, ioPipe) })
	b.Run("Goroutine", func(b *testing.B) { benchRoundTrip(b, ioPipe, sdk.WithHandoffDelay(0)) })
	b.Run("OSPipe/Inline", func(b *testing.B) { benchRoundTrip(b, osPipe) })
	b.Run("OSPipe/Goroutine", func(b *testing.B) { benchRoundTrip(b, osPipe, sdk.WithHandoffDelay(0)) })
}

type pipeFunc func(b *testing.B) (io.ReadCloser, io.WriteCloser)

func ioPipe(b *testing.B) (io.ReadCloser, io.WriteCloser) { return io.Pipe() }

func osPipe(b *testing.B) (io.ReadCloser, io.WriteCloser) {
	r, w, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	return r, w
}

func benchRoundTrip(b *testing.B, pipe pipeFunc, opts ...sdk.Option) {
	p := sdk.New(opts...)
	p.Tool("bench", "echo", func(ctx context.Context, req *sdk.Request, w *sdk.Writer) error {
		return w.Text(req.String("text"))
	})
	inR, inW := pipe(b)
	outR, outW := pipe(b)
	go p.Serve(context.Background(), inR, outW)
	defer inW.Close()
	out := bufio.NewReader(outR)
	mustReadLine(b, out) // heartbeat
	req := []byte(`{"session_id":"s","event":"request","data":{"user_id":"u","type":"tool","action":"invoke_tool",` +
		`"provider":"bench","tool":"echo","tool_parameters":{"text":"hello"},"credentials":{},"credential_type":""}}` + "\n")
	end := []byte(`"type":"end"`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := inW.Write(req); err != nil {
			b.Fatal(err)
		}
		for !bytes.Contains(mustReadLine(b, out), end) {
		}
	}
}

func mustReadLine(b *testing.B, r *bufio.Reader) []byte {
	line, err := r.ReadSlice('\n')
	if err != nil {
		b.Fatal(err)
	}
	return line
}
