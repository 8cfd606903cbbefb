package store_test

import (
	"context"
	"testing"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
)

func TestPluginFiles(t *testing.T) {
	ctx := context.Background()
	db, now := MustOpen(t)
	start := *now
	f := &store.PluginFile{PluginID: "plugboard/callbacks", UserID: "alice", Filename: "a.txt", MIME: "text/plain"}
	if err := db.CreatePluginFile(ctx, f); err != nil {
		t.Fatal(err)
	}

	t.Run("ErrNotUploadedYet", func(t *testing.T) {
		if _, err := db.FindPluginFile(ctx, f.DownloadToken); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("err %v, want not found before the upload", err)
		}
	})
	t.Run("OK", func(t *testing.T) {
		up, err := db.UploadPluginFile(ctx, f.UploadToken, []byte("hello"))
		if err != nil || up.ID != f.ID || up.Size != 5 {
			t.Fatalf("upload %+v %v", up, err)
		}
		got, err := db.FindPluginFile(ctx, f.DownloadToken)
		if err != nil || string(got.Data) != "hello" || got.Filename != "a.txt" || got.PluginID != "plugboard/callbacks" {
			t.Fatalf("file %+v %v", got, err)
		}
	})
	t.Run("ErrTokenSpent", func(t *testing.T) {
		if _, err := db.UploadPluginFile(ctx, f.UploadToken, []byte("again")); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("err %v, want not found for a second upload", err)
		}
		got, _ := db.FindPluginFile(ctx, f.DownloadToken)
		if got == nil || string(got.Data) != "hello" {
			t.Fatalf("the file changed: %+v", got)
		}
	})
	t.Run("ErrUploadExpired", func(t *testing.T) {
		g := &store.PluginFile{PluginID: "p/q", Filename: "b.txt", MIME: "text/plain"}
		if err := db.CreatePluginFile(ctx, g); err != nil {
			t.Fatal(err)
		}
		*now = start.Add(store.PluginUploadTTL)
		defer func() { *now = start }()
		if _, err := db.UploadPluginFile(ctx, g.UploadToken, []byte("late")); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("err %v, want not found after the upload window", err)
		}
	})
	t.Run("ErrDownloadExpired", func(t *testing.T) {
		*now = start.Add(store.PluginFileTTL)
		defer func() { *now = start }()
		if _, err := db.FindPluginFile(ctx, f.DownloadToken); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("err %v, want not found once expired", err)
		}
	})
}
