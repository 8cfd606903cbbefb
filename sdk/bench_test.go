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

// streamLLM streams n one-word chunks, then finishes.
type streamLLM struct{ n int }

func (m streamLLM) InvokeLLM(ctx context.Context, req *sdk.LLMRequest, w *sdk.LLMWriter) error {
	for range m.n {
		if err := w.Text("word "); err != nil {
			return err
		}
	}
	return w.Finish(sdk.FinishStop, sdk.LLMUsage{PromptTokens: 1, CompletionTokens: m.n})
}

// BenchmarkLLMStream measures an invoke_llm answered with 100 text chunks
// and the finishing chunk through io.Pipe; ns/op divided by 101 is the
// SDK's cost of one chunk.
func BenchmarkLLMStream(b *testing.B) {
	p := sdk.New()
	p.LLM("bench", streamLLM{n: 100})
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	go p.Serve(context.Background(), inR, outW)
	defer inW.Close()
	out := bufio.NewReader(outR)
	mustReadLine(b, out) // heartbeat
	req := []byte(`{"session_id":"s","event":"request","data":{"user_id":"u","type":"model","action":"invoke_llm",` +
		`"provider":"bench","model_type":"llm","model":"m","credentials":{},"stream":true,` +
		`"prompt_messages":[{"role":"user","content":"hi"}],"model_parameters":{},"tools":[],"stop":[]}}` + "\n")
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
