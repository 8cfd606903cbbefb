package main_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/daemon/runtime"
)

// startLogged starts plugboard with args, its stderr piped, and returns the
// URL it prints first and its stderr lines as they come.
func startLogged(t *testing.T, args ...string) (string, <-chan string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	first, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("plugboard printed nothing: %v", err)
	}
	go io.Copy(io.Discard, stdout)
	url := regexp.MustCompile(`http://[^\s)]+`).FindString(first)
	if url == "" {
		t.Fatalf("no URL in %q", first)
	}
	return url, lines
}

// MustJSONLine waits for a stderr line logging msg; every line before it
// must be a JSON object too.
func MustJSONLine(t *testing.T, lines <-chan string, msg string) map[string]any {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("stderr closed before a %q line", msg)
			}
			var v map[string]any
			if err := json.Unmarshal([]byte(line), &v); err != nil {
				t.Fatalf("log line is not JSON: %q", line)
			}
			if v["msg"] == msg {
				return v
			}
		case <-deadline:
			t.Fatalf("no %q log line within a minute", msg)
		}
	}
}

func get(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// TestLogFormatJSON: --log-format json switches slog to its JSON handler,
// for the daemon and for the admin app with its embedded daemon.
func TestLogFormatJSON(t *testing.T) {
	t.Run("Daemon", func(t *testing.T) {
		url, lines := startLogged(t, "daemon", "--addr", "127.0.0.1:0", "--debug-addr", "", "--data", t.TempDir(),
			"--api-key", "json-log-key", "--debug", "--log-format", "json")
		get(t, url+"/health/check")
		v := MustJSONLine(t, lines, "request")
		if v["path"] != "/health/check" || v["level"] != "DEBUG" {
			t.Fatalf("request line = %v", v)
		}
	})
	t.Run("DaemonNamesContainment", func(t *testing.T) {
		// Issue #10: the start log says which containment plugins get here.
		_, lines := startLogged(t, "daemon", "--addr", "127.0.0.1:0", "--debug-addr", "", "--data", t.TempDir(),
			"--api-key", "json-log-key", "--log-format", "json")
		v := MustJSONLine(t, lines, "plugin containment")
		if want := runtime.HostContainment(); v["active"] != want || v["level"] != "INFO" {
			t.Fatalf("containment line = %v, want active %q", v, want)
		}
	})
	t.Run("Serve", func(t *testing.T) {
		// A plugin directory no installation uses: the embedded daemon logs its removal at start.
		data := t.TempDir()
		stale := filepath.Join(data, "daemon", "plugins", "someone", "gone-0.0.1@x")
		if err := os.MkdirAll(stale, 0o755); err != nil {
			t.Fatal(err)
		}
		_, lines := startLogged(t, "serve", "--addr", "127.0.0.1:0", "--debug-addr", "", "--data", data,
			"--examples", t.TempDir(), "--log-format", "json")
		if v := MustJSONLine(t, lines, "removing unused plugin directory"); v["dir"] != stale || v["level"] != "INFO" {
			t.Fatalf("log line = %v", v)
		}
	})
	t.Run("ErrUnknownFormat", func(t *testing.T) {
		for _, cmd := range []string{"daemon", "serve"} {
			_, stderr, err := runCLI(t, t.TempDir(), cmd, "--log-format", "xml")
			if err == nil || !strings.Contains(stderr, "--log-format") {
				t.Errorf("%s --log-format xml: err %v, stderr %q", cmd, err, stderr)
			}
		}
	})
}
