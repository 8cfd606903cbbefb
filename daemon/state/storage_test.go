package state_test

import (
	"context"
	"errors"
	"testing"

	"github.com/plugboard/plugboard/daemon/state"
)

func TestStorage(t *testing.T) {
	ctx := context.Background()
	db, path := MustOpen(t)
	ns := state.Storage{Tenant: "t1", PluginID: "acme/kv"}
	other := state.Storage{Tenant: "t2", PluginID: "acme/kv"}
	usage := func(ns state.Storage) int64 {
		t.Helper()
		n, err := db.StorageUsage(ctx, ns)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := db.SetStorage(ctx, ns, "a", []byte("12345"), 10); err != nil {
		t.Fatal(err)
	}
	if err := db.SetStorage(ctx, ns, "a", []byte("1234567"), 10); err != nil {
		t.Fatalf("replacing a value within the limit: %v", err)
	}
	if n := usage(ns); n != 7 {
		t.Fatalf("usage = %d, want 7", n)
	}
	t.Run("ErrStorageFull", func(t *testing.T) {
		err := db.SetStorage(ctx, ns, "b", []byte("1234"), 10)
		if !errors.Is(err, state.ErrStorageFull) {
			t.Fatalf("err = %v, want ErrStorageFull", err)
		}
		if ok, _ := db.StorageExists(ctx, ns, "b"); ok || usage(ns) != 7 {
			t.Fatal("a refused value was stored or counted")
		}
	})
	t.Run("Namespaced", func(t *testing.T) {
		if _, ok, _ := db.GetStorage(ctx, other, "a"); ok {
			t.Fatal("another tenant sees the value")
		}
	})
	t.Run("DeleteAndReopen", func(t *testing.T) {
		db.SetStorage(ctx, ns, "b", []byte("xyz"), 10)
		if n, err := db.DeleteStorage(ctx, ns, "a"); err != nil || n != 1 {
			t.Fatalf("delete = %d, %v", n, err)
		}
		if n, _ := db.DeleteStorage(ctx, ns, "a"); n != 0 {
			t.Fatalf("second delete = %d, want 0", n)
		}
		db.Close()
		db2, err := state.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer db2.Close()
		v, ok, err := db2.GetStorage(ctx, ns, "b")
		if err != nil || !ok || string(v) != "xyz" {
			t.Fatalf("after reopening: %q %v %v", v, ok, err)
		}
		if n, _ := db2.StorageUsage(ctx, ns); n != 3 {
			t.Fatalf("usage after reopening = %d, want 3", n)
		}
		if err := db2.ClearStorage(ctx, ns); err != nil {
			t.Fatal(err)
		}
		if ok, _ := db2.StorageExists(ctx, ns, "b"); ok {
			t.Fatal("value left after ClearStorage")
		}
		if n, _ := db2.StorageUsage(ctx, ns); n != 0 {
			t.Fatalf("usage after ClearStorage = %d", n)
		}
	})
}
