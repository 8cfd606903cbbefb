package web_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/plugboard/plugboard/web/guard"
)

func TestLoadSessionKeys(t *testing.T) {
	t.Run("OKCreatedThenKept", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "data", "session-keys")
		first, err := guard.LoadSessionKeys(path)
		if err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(path)
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("key file mode %v, %v", info.Mode().Perm(), err)
		}
		again, err := guard.LoadSessionKeys(path)
		if err != nil || len(again) != 2 || !bytes.Equal(first[0], again[0]) || !bytes.Equal(first[1], again[1]) {
			t.Fatalf("keys changed between starts: %v", err)
		}
	})
	t.Run("ErrCorrupt", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "session-keys")
		os.WriteFile(path, []byte("not base64!\n"), 0o600)
		if _, err := guard.LoadSessionKeys(path); err == nil {
			t.Fatal("corrupt key file accepted")
		}
	})
}
