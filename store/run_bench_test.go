package store_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/plugboard/plugboard/store"
)

// BenchmarkSaveRunLater is the store's cost of recording a gateway call's
// run (one text message) when many are recorded at once.
func BenchmarkSaveRunLater(b *testing.B) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "plugboard.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		r := &store.Run{Username: "key:bench", PluginID: "plugboard/gotools", Provider: "gotools", Tool: "stream_text",
			Params: map[string]any{"text": "echo", "delay_ms": 0.0}}
		db.NewRun(r)
		r.Status = store.RunDone
		if err := db.SaveRunLater(ctx, r, []*store.RunEvent{{Type: "text", Payload: json.RawMessage(`{"text":"echo","at":1764892800000}`)}}, nil); err != nil {
			b.Fatal(err)
		}
	}
	if err := db.WaitWrites(); err != nil {
		b.Fatal(err)
	}
}
