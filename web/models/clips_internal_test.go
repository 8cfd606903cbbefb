package models

import (
	"testing"
	"time"
)

// TestClips keeps a clip for its owner until it expires, and drops the
// oldest past the count and byte bounds.
func TestClips(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cs := &clips{now: func() time.Time { return now }}
	t.Run("OKOwnerOnlyUntilExpired", func(t *testing.T) {
		id := cs.add("bob", "audio/wav", []byte("RIFF"))
		if c := cs.get("bob", id); c == nil || string(c.audio) != "RIFF" {
			t.Fatalf("bob's clip: %+v", c)
		}
		if cs.get("eve", id) != nil {
			t.Fatal("eve got bob's clip")
		}
		now = now.Add(clipTTL + time.Second)
		if cs.get("bob", id) != nil || len(cs.list) != 0 {
			t.Fatalf("an expired clip is kept: %d", len(cs.list))
		}
	})
	t.Run("OKBounds", func(t *testing.T) {
		first := cs.add("bob", "audio/wav", make([]byte, 10))
		for range maxClips {
			cs.add("bob", "audio/wav", make([]byte, 10))
		}
		if len(cs.list) != maxClips || cs.get("bob", first) != nil {
			t.Fatalf("%d clips, the first kept: %v", len(cs.list), cs.get("bob", first) != nil)
		}
		big := cs.add("bob", "audio/wav", make([]byte, maxClipBytes))
		if len(cs.list) != 1 || cs.get("bob", big) == nil {
			t.Fatalf("after a clip of the byte bound: %d clips", len(cs.list))
		}
	})
}
