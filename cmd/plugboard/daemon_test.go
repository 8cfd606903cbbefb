package main_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/daemon/client"
)

// TestDaemonKeyFileAndPrivateData: the key comes from --api-key-file (never
// argv), and the data directory and daemon.db, which holds the debug keys,
// are the owner's only, also when an older version left them open.
func TestDaemonKeyFileAndPrivateData(t *testing.T) {
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "daemon")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte("file-key-123\nnot part of the key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemonWith(t, "--data", data, "--api-key-file", keyFile)
	cl := client.New(d.url, "file-key-123")
	if _, err := cl.DebuggingKey(ctx); err != nil {
		t.Fatalf("the key from the file is refused: %v", err)
	}
	if _, err := client.New(d.url, "other-key").DebuggingKey(ctx); err == nil {
		t.Fatal("another key is accepted")
	}
	for path, want := range map[string]os.FileMode{data: 0o700, filepath.Join(data, "daemon.db"): 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v, %v; want mode %o", path, fi.Mode(), err, want)
		}
	}
	if strings.Contains(strings.Join(d.cmd.Args, " "), "file-key-123") {
		t.Error("the key is on the command line")
	}
}

func TestDaemonKeyFileErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"ErrBoth":    {[]string{"--api-key", "k", "--api-key-file", empty}, "give --api-key or --api-key-file, not both"},
		"ErrEmpty":   {[]string{"--api-key-file", empty}, "--api-key-file: " + empty + " is empty"},
		"ErrMissing": {[]string{"--api-key-file", filepath.Join(dir, "nope")}, "no such file or directory"},
	} {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"daemon", "--addr", "127.0.0.1:0", "--debug-addr", "", "--data", filepath.Join(dir, name)}, tc.args...)
			_, stderr, err := runCLI(t, dir, args...)
			if err == nil || !strings.Contains(stderr, tc.want) {
				t.Fatalf("err %v, stderr %q; want %q", err, stderr, tc.want)
			}
		})
	}
}
