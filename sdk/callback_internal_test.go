package sdk

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

func (p *pendingCalls) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.m)
}

// TestCallStreamLetGoWithSession: a call back its handler neither reads to
// the end nor closes stops waiting for frames once the session ends.
func TestCallStreamLetGoWithSession(t *testing.T) {
	srv := newServer(context.Background(), New(), strings.NewReader(""), io.Discard)
	defer srv.stop()
	ctx, end := context.WithCancel(context.Background())
	s := &Session{srv: srv, id: "s1", ctx: ctx}
	if _, err := s.Invoke(context.Background(), "storage", map[string]any{"opt": "get", "key": "k"}); err != nil {
		t.Fatal(err)
	}
	if n := srv.calls.len(); n != 1 {
		t.Fatalf("%d calls pending while the session runs, want 1", n)
	}
	end()
	deadline := time.Now().Add(30 * time.Second)
	for srv.calls.len() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the call back is still pending 30s after its session ended")
		}
		time.Sleep(time.Millisecond)
	}
}
