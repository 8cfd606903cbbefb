package state_test

import (
	"context"
	"testing"

	"github.com/plugboard/plugboard/daemon/state"
)

func TestDebugKey(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		db, path := MustOpen(t)
		k1, err := db.DebugKey(ctx, "t1")
		if err != nil || len(k1) != 36 {
			t.Fatalf("key %q, err %v", k1, err)
		}
		k2, _ := db.DebugKey(ctx, "t2")
		if k1 == k2 {
			t.Fatal("two tenants got the same key")
		}
		db.Close()
		db, err = state.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if again, _ := db.DebugKey(ctx, "t1"); again != k1 {
			t.Fatalf("after reopen key = %q, want %q", again, k1)
		}
		if tenant, ok, err := db.DebugKeyTenant(ctx, k1); !ok || err != nil || tenant != "t1" {
			t.Fatalf("tenant of key = %q %v %v", tenant, ok, err)
		}
	})
	t.Run("Regenerate", func(t *testing.T) {
		db, _ := MustOpen(t)
		old, _ := db.DebugKey(ctx, "t1")
		fresh, err := db.RegenerateDebugKey(ctx, "t1")
		if err != nil || fresh == old {
			t.Fatalf("regenerated %q (old %q), err %v", fresh, old, err)
		}
		if _, ok, _ := db.DebugKeyTenant(ctx, old); ok {
			t.Fatal("old key still maps to a tenant")
		}
		if now, _ := db.DebugKey(ctx, "t1"); now != fresh {
			t.Fatalf("key = %q, want the regenerated %q", now, fresh)
		}
	})
	t.Run("ErrUnknownKey", func(t *testing.T) {
		db, _ := MustOpen(t)
		if _, ok, err := db.DebugKeyTenant(ctx, "nope"); ok || err != nil {
			t.Fatalf("unknown key: ok %v err %v", ok, err)
		}
	})
}
