package runtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/daemon/runtime"
)

// goPlugin is the test Go plugin built by TestMain, hostilePlugin the one
// that attacks its host (testdata/hostile).
var goPlugin, hostilePlugin string

// python is the real interpreter behind python3 (not a pyenv shim) and
// pythonPrefix its installation, which contained plugins may read.
var python, pythonPrefix string

// envPrebuilt hands the test plugins built by a parent run to a child run of
// this binary under another uid (TestHostilePluginUnprivileged).
const envPrebuilt = "RUNTIME_TEST_PLUGINS"

func TestMain(m *testing.M) {
	if bins, ok := os.LookupEnv(envPrebuilt); ok {
		goPlugin, hostilePlugin, _ = strings.Cut(bins, ":")
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "runtime-test")
	if err != nil {
		panic(err)
	}
	// Reachable by the dedicated uid a contained plugin runs as.
	if err := os.Chmod(dir, 0o755); err != nil {
		panic(err)
	}
	goPlugin, hostilePlugin = filepath.Join(dir, "goplugin"), filepath.Join(dir, "hostile")
	for bin, src := range map[string]string{goPlugin: "./testdata/goplugin", hostilePlugin: "./testdata/hostile"} {
		if out, err := exec.Command("go", "build", "-o", bin, src).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building the test plugin %s: %v\n%s", src, err, out)
			os.Exit(1)
		}
	}
	if out, err := exec.Command("python3", "-c", "import sys; print(sys.executable); print(sys.base_prefix)").Output(); err == nil {
		if f := strings.Fields(string(out)); len(f) == 2 {
			python, pythonPrefix = f[0], f[1]
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// patience bounds every wait in these tests, so a hang fails instead of
// blocking forever.
const patience = 30 * time.Second

// MustManager returns a Manager closed at the end of the test.
func MustManager(tb testing.TB, cfg runtime.Config) *runtime.Manager {
	tb.Helper()
	m := runtime.NewManager(cfg)
	tb.Cleanup(func() { m.Close() })
	return m
}

// pySpec runs testdata/plugin.py with the given start-up flags.
func pySpec(tb testing.TB, name string, flags ...string) runtime.Spec {
	tb.Helper()
	script, err := filepath.Abs("testdata/plugin.py")
	if err != nil {
		tb.Fatal(err)
	}
	return runtime.Spec{
		Key:          "acme/" + name + ":0.0.1@test",
		PluginID:     "acme/" + name,
		Dir:          tb.TempDir(),
		Command:      append([]string{python, script}, flags...),
		ReadOnly:     []string{pythonPrefix, script},
		StartTimeout: patience,
	}
}

// goSpec runs the test Go plugin.
func goSpec(tb testing.TB, name string) runtime.Spec {
	tb.Helper()
	return runtime.Spec{
		Key: "acme/" + name + ":0.0.1@test", PluginID: "acme/" + name,
		Dir: tb.TempDir(), Command: []string{goPlugin}, StartTimeout: patience,
	}
}

// MustStart starts spec and fails the test if it does not become ready.
func MustStart(tb testing.TB, m *runtime.Manager, spec runtime.Spec) runtime.Spec {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := m.Start(ctx, spec); err != nil {
		tb.Fatalf("start %s: %v", spec.PluginID, err)
	}
	return spec
}

func toolRequest(tool string, params map[string]any) *protocol.RequestData {
	return &protocol.RequestData{
		UserID: "u1", Type: protocol.TypeTool, Action: protocol.ActionInvokeTool,
		Provider: "test", Tool: tool, ToolParameters: params, Credentials: map[string]any{},
	}
}

// MustInvoke opens a session bounded by patience.
func MustInvoke(tb testing.TB, m *runtime.Manager, key, tool string, params map[string]any) *runtime.Stream {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	tb.Cleanup(cancel)
	s, err := m.Invoke(ctx, key, toolRequest(tool, params))
	if err != nil {
		tb.Fatalf("invoke %s: %v", tool, err)
	}
	return s
}

// collect reads s to its end: the texts of its text chunks and the final
// error (nil for a clean end).
func collect(tb testing.TB, s *runtime.Stream) ([]string, error) {
	tb.Helper()
	var texts []string
	for {
		msg, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return texts, nil
		}
		if err != nil {
			return texts, err
		}
		texts = append(texts, chunkText(tb, msg))
	}
}

func chunkText(tb testing.TB, msg json.RawMessage) string {
	tb.Helper()
	var tm struct {
		Type    string `json:"type"`
		Message struct {
			Text string `json:"text"`
		} `json:"message"`
	}
	if err := json.Unmarshal(msg, &tm); err != nil || tm.Type != "text" {
		tb.Fatalf("chunk %s is not a text message (%v)", msg, err)
	}
	return tm.Message.Text
}

// waitFor polls cond until it holds, failing the test after patience.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// hasLog reports whether the plugin's logs hold an entry containing text.
func hasLog(m *runtime.Manager, key, text string) bool {
	for _, e := range m.Logs(key, 0) {
		if strings.Contains(e.Message, text) {
			return true
		}
	}
	return false
}

// mark returns an environment entry unique to the test; the plugin's
// children inherit it, so markedProcesses finds them from outside the
// plugin's PID namespace, where the pids it reports mean nothing.
func mark(tb testing.TB) string {
	return fmt.Sprintf("RUNTIME_TEST_MARK=%s-%d", tb.Name(), time.Now().UnixNano())
}

// markedProcesses counts the live processes whose environment holds mark.
func markedProcesses(mark string) int {
	n := 0
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err == nil && slices.Contains(strings.Split(string(b), "\x00"), mark) {
			n++
		}
	}
	return n
}
