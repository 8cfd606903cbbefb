package e2e_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Server is a running `plugboard serve`.
type Server struct {
	URL  string
	Data string
	PID  int // of the plugboard process
}

var runningAt = regexp.MustCompile(`Plugboard is running at (http://\S+)`)

// binary returns the plugboard binary: $PLUGBOARD_E2E_BIN, or one built from
// the checkout into a temporary directory.
func binary(tb testing.TB) string {
	tb.Helper()
	if bin := os.Getenv("PLUGBOARD_E2E_BIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(tb.TempDir(), "plugboard")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/plugboard/plugboard/cmd/plugboard")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build plugboard: %v\n%s", err, out)
	}
	return bin
}

// serveConfig is how MustServe starts the server; ServeOptions change it.
type serveConfig struct {
	dir  string   // working directory ("": the test's)
	data string   // --data ("": the flag is left out)
	args []string // the flags after serve's
}

// ServeOption changes how MustServe starts `plugboard serve`.
type ServeOption func(*serveConfig)

// WithExamples offers the packages in dir as one-click examples (by
// default there are none).
func WithExamples(dir string) ServeOption {
	return func(c *serveConfig) { c.args = append(c.args, "--examples", dir) }
}

// WithDaemon talks to the outside daemon at url with key instead of
// starting an embedded one.
func WithDaemon(url, key string) ServeOption {
	return func(c *serveConfig) { c.args = append(c.args, "--daemon-url", url, "--daemon-key", key) }
}

// WithGitHub points the GitHub API at the stand-in at apiURL, allowlisted
// for the SSRF guard.
func WithGitHub(apiURL string) ServeOption {
	return func(c *serveConfig) {
		c.args = append(c.args, "--github-api-url", apiURL, "--outbound-allow", "127.0.0.1")
	}
}

// WithMarketplace sets --marketplace-url.
func WithMarketplace(url string) ServeOption {
	return func(c *serveConfig) { c.args = append(c.args, "--marketplace-url", url) }
}

// InDir runs the server in dir with serve's defaults, as `make run` does:
// no --data (./data) and no --examples (./dist) unless another option
// gives them.
func InDir(dir string) ServeOption {
	return func(c *serveConfig) { c.dir, c.data = dir, "" }
}

// MustServe starts `plugboard serve` on a free port, by default with a
// fresh data directory and no examples, and stops it (SIGTERM, then waits)
// when the test ends.
func MustServe(tb testing.TB, opts ...ServeOption) *Server {
	tb.Helper()
	cfg := serveConfig{data: tb.TempDir()}
	for _, o := range opts {
		o(&cfg)
	}
	args := []string{"serve"}
	if !slices.Contains(cfg.args, "--addr") {
		args = append(args, "--addr", "127.0.0.1:0")
	}
	data := filepath.Join(cfg.dir, "data")
	if cfg.data != "" {
		data = cfg.data
		args = append(args, "--data", data)
		if !slices.Contains(cfg.args, "--examples") {
			args = append(args, "--examples", filepath.Join(data, "none"))
		}
	}
	cmd := exec.Command(binary(tb), append(args, cfg.args...)...)
	cmd.Dir = cfg.dir
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { stop(tb, cmd) })
	url, err := waitForURL(stdout)
	if err != nil {
		tb.Fatal(err)
	}
	return &Server{URL: url, Data: data, PID: cmd.Process.Pid}
}

// waitForURL reads the server's output until it prints its URL.
func waitForURL(stdout interface{ Read([]byte) (int, error) }) (string, error) {
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if m := runningAt.FindStringSubmatch(sc.Text()); m != nil {
			go func() {
				for sc.Scan() {
				}
			}()
			return m[1], nil
		}
	}
	return "", errors.New("plugboard serve exited without printing its URL")
}

// stop asks the server to shut down gracefully and checks that it did.
func stop(tb testing.TB, cmd *exec.Cmd) {
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	select {
	case err := <-done:
		if err != nil && !strings.Contains(err.Error(), "signal") {
			tb.Errorf("plugboard serve exited with %v after SIGTERM", err)
		}
	case <-ctx.Done():
		cmd.Process.Kill()
		tb.Error("plugboard serve did not stop within 20s of SIGTERM")
	}
}
