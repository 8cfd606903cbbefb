package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeInnerAPIKeyErrors checks the refusals of a wrong inner API key
// configuration, before anything starts.
func TestServeInnerAPIKeyErrors(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	os.WriteFile(key, []byte("k\n"), 0o600)
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"ErrEmbedded": {[]string{"--inner-api-key", "k"}, "--inner-api-key is for a daemon at --daemon-url"},
		"ErrBoth": {[]string{"--daemon-url", "http://127.0.0.1:1", "--daemon-key", "d", "--inner-api-key", "k", "--inner-api-key-file", key},
			"give --inner-api-key or --inner-api-key-file, not both"},
	} {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--debug-addr", "", "--data", filepath.Join(dir, name)}, tc.args...)
			_, stderr, err := runCLI(t, dir, args...)
			if err == nil || !strings.Contains(stderr, tc.want) {
				t.Fatalf("err %v, stderr %q; want %q", err, stderr, tc.want)
			}
		})
	}
}
