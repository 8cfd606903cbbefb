package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/plugboard/plugboard/daemon/errs"
	"github.com/plugboard/plugboard/store"
)

// MustCreateRun starts a run for user or fails the test.
func MustCreateRun(tb testing.TB, db *store.DB, userID int64) *store.Run {
	tb.Helper()
	r := &store.Run{UserID: userID, Username: "u", PluginID: "plugboard/gotools", Provider: "gotools", Tool: "stream_text",
		Params: map[string]any{"text": "hi", "token": "[redacted]"}}
	if err := db.CreateRun(context.Background(), r); err != nil {
		tb.Fatal(err)
	}
	return r
}

func TestRuns(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		db, now := MustOpen(t)
		start := *now
		r := MustCreateRun(t, db, 1)
		*now = start.Add(40 * time.Millisecond)
		for _, text := range []string{"a ", "b"} {
			payload, _ := json.Marshal(map[string]string{"text": text})
			if err := db.AppendRunEvent(ctx, &store.RunEvent{RunID: r.ID, Type: "text", Payload: payload}); err != nil {
				t.Fatal(err)
			}
		}
		blob := &store.RunEvent{RunID: r.ID, Type: "blob", Payload: json.RawMessage(`{"mime":"image/png"}`), Blob: []byte("PNG")}
		if err := db.AppendRunEvent(ctx, blob); err != nil || blob.Seq != 3 {
			t.Fatalf("blob seq %d, err %v", blob.Seq, err)
		}
		*now = start.Add(time.Second)
		if err := db.FinishRun(ctx, r.ID, store.RunDone, ""); err != nil {
			t.Fatal(err)
		}
		if err := db.FinishRun(ctx, r.ID, store.RunCancelled, ""); err != nil {
			t.Fatal(err)
		}
		got, err := db.FindRun(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != store.RunDone || got.Messages != 3 || got.FirstAt.Sub(got.CreatedAt) != 40*time.Millisecond ||
			got.EndedAt.Sub(got.CreatedAt) != time.Second || got.Params["token"] != "[redacted]" {
			t.Fatalf("run %+v", got)
		}
		evs, err := db.RunEvents(ctx, r.ID, 1)
		if err != nil || len(evs) != 2 || evs[0].Seq != 2 || evs[1].Type != "blob" {
			t.Fatalf("events after 1: %+v %v", evs, err)
		}
		ev, err := db.RunEvent(ctx, r.ID, 3)
		if err != nil || string(ev.Blob) != "PNG" {
			t.Fatalf("blob event %+v %v", ev, err)
		}
	})
	t.Run("OKFilterByUser", func(t *testing.T) {
		db, _ := MustOpen(t)
		MustCreateRun(t, db, 1)
		MustCreateRun(t, db, 2)
		mine, err := db.FindRuns(ctx, store.RunFilter{UserID: 2})
		if err != nil || len(mine) != 1 || mine[0].UserID != 2 {
			t.Fatalf("user 2's runs %+v %v", mine, err)
		}
		all, err := db.FindRuns(ctx, store.RunFilter{})
		if err != nil || len(all) != 2 {
			t.Fatalf("all runs %d %v", len(all), err)
		}
	})
	t.Run("OKDeleteCascades", func(t *testing.T) {
		db, _ := MustOpen(t)
		r := MustCreateRun(t, db, 1)
		if err := db.AppendRunEvent(ctx, &store.RunEvent{RunID: r.ID, Type: "text"}); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteRun(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if evs, _ := db.RunEvents(ctx, r.ID, 0); len(evs) != 0 {
			t.Fatalf("%d events survive the run", len(evs))
		}
	})
	t.Run("OKInterrupt", func(t *testing.T) {
		db, _ := MustOpen(t)
		r := MustCreateRun(t, db, 1)
		if n, err := db.InterruptRuns(ctx); n != 1 || err != nil {
			t.Fatalf("interrupted %d, %v", n, err)
		}
		got, _ := db.FindRun(ctx, r.ID)
		if got.Status != store.RunFailed || got.Error == "" {
			t.Fatalf("run %+v", got)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		db, _ := MustOpen(t)
		_, err := db.FindRun(ctx, "nope")
		if errs.Code(err) != errs.NotFound {
			t.Fatalf("find: %v", err)
		}
		if err := db.DeleteRun(ctx, "nope"); errs.Code(err) != errs.NotFound {
			t.Fatalf("delete: %v", err)
		}
		if err := db.AppendRunEvent(ctx, &store.RunEvent{RunID: "nope", Type: "text"}); errs.Code(err) != errs.NotFound {
			t.Fatalf("append: %v", err)
		}
	})
	t.Run("ErrNoTool", func(t *testing.T) {
		db, _ := MustOpen(t)
		if err := db.CreateRun(ctx, &store.Run{UserID: 1}); errs.Code(err) != errs.Invalid {
			t.Fatalf("create: %v", err)
		}
	})
}
