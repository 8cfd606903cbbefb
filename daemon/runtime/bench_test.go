package runtime_test

import (
	"context"
	"io"
	"testing"

	"github.com/plugboard/plugboard/daemon/runtime"
)

// BenchmarkInvoke measures one-chunk invocations through a real Go plugin
// over one pipe, one at a time and from many callers at once.
func BenchmarkInvoke(b *testing.B) {
	m := MustManager(b, runtime.Config{})
	spec := MustStart(b, m, goSpec(b, "bench"))
	req := toolRequest("echo", map[string]any{"text": "hello"})
	invoke := func(b *testing.B) {
		s, err := m.Invoke(context.Background(), spec.Key, req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Recv(); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Recv(); err != io.EOF {
			b.Fatalf("want EOF, got %v", err)
		}
	}
	b.Run("Serial", func(b *testing.B) {
		for b.Loop() {
			invoke(b)
		}
	})
	b.Run("Parallel64", func(b *testing.B) {
		b.SetParallelism(32) // 2 CPUs × 32 = 64 callers
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				invoke(b)
			}
		})
	})
}

// BenchmarkStream measures one invocation streaming 10,000 chunks; the
// chunks/s figure is the one to watch.
func BenchmarkStream(b *testing.B) {
	m := MustManager(b, runtime.Config{})
	spec := MustStart(b, m, goSpec(b, "stream"))
	req := toolRequest("echo", map[string]any{"text": "hello", "n": 10000})
	for b.Loop() {
		s, err := m.Invoke(context.Background(), spec.Key, req)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			if _, err := s.Recv(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 10000 {
			b.Fatalf("got %d chunks", n)
		}
	}
	b.ReportMetric(float64(b.N*10000)/b.Elapsed().Seconds(), "chunks/s")
}
