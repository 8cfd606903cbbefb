package innerapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/daemon/innerapi"
)

// TestWriteFrameBytes pins the bytes of a frame as Dify's
// LengthPrefixedChunking reads them.
func TestWriteFrameBytes(t *testing.T) {
	var buf bytes.Buffer
	if err := innerapi.WriteFrame(&buf, []byte("hi!")); err != nil {
		t.Fatal(err)
	}
	want := []byte{0x0f, 0x00, 0x0a, 0x00, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'h', 'i', '!'}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("frame = % x, want % x", buf.Bytes(), want)
	}
}

func TestRoundTrip(t *testing.T) {
	payloads := [][]byte{[]byte(`{"data":{"a":1},"error":""}`), {}, bytes.Repeat([]byte("x"), 70000), innerapi.ErrorFrame("boom")}
	var buf bytes.Buffer
	for _, p := range payloads {
		if err := innerapi.WriteFrame(&buf, p); err != nil {
			t.Fatal(err)
		}
	}
	r := innerapi.NewFrameReader(&buf)
	for i, p := range payloads {
		got, err := r.Next()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if !bytes.Equal(got, p) {
			t.Fatalf("frame %d = %q, want %q", i, got, p)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the last frame: %v, want io.EOF", err)
	}
}

func TestNextErrors(t *testing.T) {
	frame := func(p string) []byte {
		var b bytes.Buffer
		innerapi.WriteFrame(&b, []byte(p))
		return b.Bytes()
	}
	good := frame("hello")
	badMagic := append([]byte{}, good...)
	badMagic[0] = 0x0e
	badHeader := append([]byte{}, good...)
	badHeader[2] = 0x0b
	cases := map[string]struct {
		in   []byte
		want string
	}{
		"ErrMagic":        {badMagic, "magic number mismatch: 14"},
		"ErrHeaderLength": {badHeader, "header length mismatch: 11"},
		"ErrCutPrefix":    {good[:2], "reading the prefix"},
		"ErrCutHeader":    {good[:8], "reading the header"},
		"ErrCutData":      {good[:len(good)-1], "reading 5 bytes of data"},
		"ErrTooLong":      {frame(strings.Repeat("y", 11)), "data length is too long: 11"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := innerapi.NewFrameReader(bytes.NewReader(c.in))
			r.SetMax(10)
			_, err := r.Next()
			if !errors.Is(err, innerapi.ErrFrame) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrFrame with %q", err, c.want)
			}
		})
	}
}

func TestEnvelope(t *testing.T) {
	b, err := innerapi.DataFrame(map[string]string{"summary": "s"})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"data":{"summary":"s"},"error":""}` {
		t.Fatalf("data frame = %s", b)
	}
	if got := string(innerapi.ErrorFrame("no")); got != `{"data":null,"error":"no"}` {
		t.Fatalf("error frame = %s", got)
	}
	var r innerapi.Response
	json.Unmarshal(innerapi.ErrorFrame("no"), &r)
	if !r.Failed() || r.HasData() {
		t.Fatalf("error envelope read as %+v", r)
	}
	if !innerapi.Streamed(innerapi.PathLLM) || innerapi.Streamed(innerapi.PathTextEmbedding) {
		t.Fatal("Streamed wrong for llm or text-embedding")
	}
}

// FuzzFrameReader feeds arbitrary bytes: the reader never panics, never
// returns a payload over its bound, and each payload it returns is the
// input's bytes after that frame's prefix (reserved bytes may be anything,
// as Dify's reader ignores them).
func FuzzFrameReader(f *testing.F) {
	var seed bytes.Buffer
	innerapi.WriteFrame(&seed, []byte(`{"data":1}`))
	innerapi.WriteFrame(&seed, nil)
	f.Add(seed.Bytes())
	f.Add([]byte{0x0f, 0, 0x0a, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := innerapi.NewFrameReader(bytes.NewReader(in))
		r.SetMax(1 << 16)
		at := 0
		for {
			p, err := r.Next()
			if err != nil {
				if err != io.EOF && !errors.Is(err, innerapi.ErrFrame) {
					t.Fatalf("unexpected error %v", err)
				}
				break
			}
			if len(p) > 1<<16 {
				t.Fatalf("payload of %d bytes over the bound", len(p))
			}
			at += 14
			if !bytes.Equal(in[at:at+len(p)], p) {
				t.Fatalf("payload at %d is not the input's bytes", at)
			}
			at += len(p)
		}
	})
}
