package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/plugboard/plugboard/store"
)

// TestAuditOriginOutcomeFilters records entries from two addresses with
// several outcomes at different times, and filters them by actor, action and
// time.
func TestAuditOriginOutcomeFilters(t *testing.T) {
	db, now := MustOpen(t)
	start := *now
	ctx := store.WithOrigin(context.Background(), "203.0.113.7")
	if err := db.AuditOutcome(ctx, "mallory", store.AuditLogin, "mallory", "wrong password", store.OutcomeFailure); err != nil {
		t.Fatal(err)
	}
	*now = start.Add(time.Hour)
	if err := db.Audit(store.WithOrigin(context.Background(), "198.51.100.2"), "alice", store.AuditLogin, "alice", ""); err != nil {
		t.Fatal(err)
	}
	*now = start.Add(2 * time.Hour)
	if err := db.Audit(context.Background(), "", store.AuditKeysRotate, "master key", ""); err != nil {
		t.Fatal(err)
	}
	t.Run("OKOriginAndOutcome", func(t *testing.T) {
		list, total, err := db.FindAuditEntries(context.Background(), store.AuditFilter{Actor: "mallory"})
		if err != nil || total != 1 {
			t.Fatalf("mallory's entries: %d, %v", total, err)
		}
		if e := list[0]; e.Address != "203.0.113.7" || e.Outcome != store.OutcomeFailure || !e.At.Equal(start) {
			t.Fatalf("entry %+v", e)
		}
		list, _, _ = db.FindAuditEntries(context.Background(), store.AuditFilter{Action: store.AuditKeysRotate})
		if len(list) != 1 || list[0].Actor != "system" || list[0].Address != "" || list[0].Outcome != store.OutcomeSuccess {
			t.Fatalf("system entry %+v", list)
		}
	})
	t.Run("OKTimeWindow", func(t *testing.T) {
		list, total, _ := db.FindAuditEntries(context.Background(), store.AuditFilter{
			Since: start.Add(30 * time.Minute), Until: start.Add(2 * time.Hour)})
		if total != 1 || list[0].Actor != "alice" {
			t.Fatalf("window holds %+v", list)
		}
		_, total, _ = db.FindAuditEntries(context.Background(), store.AuditFilter{Action: store.AuditLogin, Since: start.Add(time.Hour)})
		if total != 1 {
			t.Fatalf("logins since an hour: %d, want 1", total)
		}
	})
	t.Run("OKActors", func(t *testing.T) {
		actors, err := db.AuditActors(context.Background())
		if err != nil || len(actors) != 3 || actors[0] != "alice" {
			t.Fatalf("actors %v, %v", actors, err)
		}
	})
}
