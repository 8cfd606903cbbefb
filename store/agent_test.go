package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
)

func TestAgentRuns(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		db, now := MustOpen(t)
		r := &store.AgentRun{UserID: 7, Username: "ann", Spec: json.RawMessage(`{"query":"hi"}`)}
		if err := db.CreateAgentRun(ctx, r); err != nil || r.ID == "" || !r.Running() {
			t.Fatalf("create: %v %+v", err, r)
		}
		for n, data := range []string{`{"n":1}`, `{"n":2,"text":"draft"}`, `{"n":2,"text":"final"}`} {
			if err := db.SaveAgentStep(ctx, r.ID, min(n+1, 2), json.RawMessage(data)); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.FinishAgentRun(ctx, r.ID, store.RunDone, "the answer", "", 42); err != nil {
			t.Fatal(err)
		}
		if err := db.FinishAgentRun(ctx, r.ID, store.RunFailed, "", "late", 0); err != nil {
			t.Fatal(err)
		}
		got, err := db.FindAgentRun(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != store.RunDone || got.Answer != "the answer" || got.TotalTokens != 42 || got.EndedAt.IsZero() ||
			len(got.Steps) != 2 || string(got.Steps[1]) != `{"n":2,"text":"final"}` || string(got.Spec) != `{"query":"hi"}` {
			t.Fatalf("stored run: %+v steps %s", got, got.Steps)
		}
		*now = now.Add(time.Second)
		other := &store.AgentRun{UserID: 8, Username: "bob", Spec: json.RawMessage(`{}`)}
		if err := db.CreateAgentRun(ctx, other); err != nil {
			t.Fatal(err)
		}
		mine, err := db.FindAgentRuns(ctx, 7, 0)
		all, err2 := db.FindAgentRuns(ctx, 0, 0)
		if err != nil || err2 != nil || len(mine) != 1 || mine[0].ID != r.ID || len(all) != 2 || all[0].ID != other.ID {
			t.Fatalf("lists: %v %v mine %d all %d", err, err2, len(mine), len(all))
		}
		if n, err := db.InterruptAgentRuns(ctx); err != nil || n != 1 {
			t.Fatalf("interrupt: %d %v", n, err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		db, _ := MustOpen(t)
		if _, err := db.FindAgentRun(ctx, "nope"); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ErrSpecNotJSON", func(t *testing.T) {
		db, _ := MustOpen(t)
		if err := db.CreateAgentRun(ctx, &store.AgentRun{Spec: json.RawMessage(`{`)}); plugboard.ErrorCode(err) != plugboard.EINVALID {
			t.Fatalf("got %v", err)
		}
	})
}
