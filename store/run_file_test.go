package store_test

import (
	"context"
	"testing"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
)

func TestRunFiles(t *testing.T) {
	ctx := context.Background()
	db, now := MustOpen(t)
	r := &store.Run{UserID: 1, Username: "u", PluginID: "plugboard/gotools", Provider: "gotools", Tool: "file_info"}
	f := &store.RunFile{Param: "file", Filename: "a.txt", MIME: "text/plain", Data: []byte("hello")}
	if err := db.CreateRun(ctx, r, f); err != nil {
		t.Fatal(err)
	}
	start := *now

	t.Run("OK", func(t *testing.T) {
		got, err := db.FindRunFile(ctx, f.Token)
		if err != nil || got.RunID != r.ID || got.Filename != "a.txt" || string(got.Data) != "hello" || len(f.Token) != 64 {
			t.Fatalf("file %+v %v (token %q)", got, err, f.Token)
		}
	})
	t.Run("ErrUnknownToken", func(t *testing.T) {
		if _, err := db.FindRunFile(ctx, "nope"); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("err %v, want not found", err)
		}
	})
	t.Run("ErrExpired", func(t *testing.T) {
		*now = start.Add(store.RunFileTTL)
		defer func() { *now = start }()
		if _, err := db.FindRunFile(ctx, f.Token); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("err %v, want not found once expired", err)
		}
	})
	t.Run("OKDeletedWithRun", func(t *testing.T) {
		if err := db.DeleteRun(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.FindRunFile(ctx, f.Token); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("err %v, want not found after the run was deleted", err)
		}
	})
}
