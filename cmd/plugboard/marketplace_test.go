package main_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/app/marketplace"
)

func TestMarketplaceServe(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		dir := t.TempDir()
		data, err := marketplace.PackVersion(filepath.Join(MustRepoRoot(t), "examples", "plugins", "pytools"), "1.2.3")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "pytools.difypkg"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(binary, "marketplace", "serve", dir, "--addr", "127.0.0.1:0")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		line, _ := bufio.NewReader(out).ReadString('\n')
		m := regexp.MustCompile(`on (http://\S+)`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("no URL in %q", line)
		}
		resp, err := http.Post(m[1]+"/api/v1/plugins/batch", "application/json", strings.NewReader(`{"plugin_ids":["plugboard/pytools"]}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got struct {
			Data struct {
				Plugins []marketplace.Plugin `json:"plugins"`
			} `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || len(got.Data.Plugins) != 1 || got.Data.Plugins[0].LatestVersion != "1.2.3" {
			t.Fatalf("batch = %+v, %v", got, err)
		}
	})
	t.Run("ErrNoFolder", func(t *testing.T) {
		_, stderr, err := runCLI(t, t.TempDir(), "marketplace", "serve", filepath.Join(t.TempDir(), "missing"))
		if err == nil || !strings.Contains(stderr, "marketplace folder:") || !strings.Contains(stderr, "no such file or directory") {
			t.Fatalf("err %v, stderr %q", err, stderr)
		}
	})
}
