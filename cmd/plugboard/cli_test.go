package main_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

var binary string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

// runTests builds the plugboard binary (or takes PLUGBOARD_E2E_BIN) for the
// tests to run as a real process.
func runTests(m *testing.M) int {
	binary = os.Getenv("PLUGBOARD_E2E_BIN")
	if binary == "" {
		dir, err := os.MkdirTemp("", "plugboard-cli-*")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(dir)
		root, _ := filepath.Abs("../..")
		binary = filepath.Join(dir, "plugboard")
		build := exec.Command("go", "build", "-ldflags", "-X main.sourceDir="+root, "-o", binary, ".")
		if out, err := build.CombinedOutput(); err != nil {
			panic("go build: " + err.Error() + "\n" + string(out))
		}
	}
	return m.Run()
}

// MustRepoRoot returns the checkout's root directory.
func MustRepoRoot(tb testing.TB) string {
	tb.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		tb.Fatal(err)
	}
	return root
}

// runCLI runs plugboard with args in dir and returns stdout, stderr and the error.
func runCLI(t *testing.T, dir string, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// TestPluginInitPackRun follows the README: scaffold, run, pack.
func TestPluginInitPackRun(t *testing.T) {
	dir := t.TempDir()
	if _, stderr, err := runCLI(t, dir, "plugin", "init", "hello_plugin", "--author", "tester", "--sdk", MustRepoRoot(t)); err != nil {
		t.Fatalf("init: %v\n%s", err, stderr)
	}
	out, stderr, err := runCLI(t, dir, "plugin", "run", "hello_plugin", "--tool", "hello", "--param", "name=Ada")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	if !strings.Contains(out, "Hello, Ada!") {
		t.Errorf("run printed %q, want the greeting", out)
	}
	out, stderr, err = runCLI(t, dir, "plugin", "pack", "hello_plugin", "-o", "hello.difypkg")
	if err != nil {
		t.Fatalf("pack: %v\n%s", err, stderr)
	}
	id := strings.TrimSpace(out)
	if !regexp.MustCompile(`^tester/hello_plugin:0\.0\.1@[0-9a-f]{64}$`).MatchString(id) {
		t.Errorf("pack printed %q, want the identifier", id)
	}
	data, err := os.ReadFile(filepath.Join(dir, "hello.difypkg"))
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := pkgfmt.Decode(data, pkgfmt.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if pkg.ID.String() != id {
		t.Errorf("package identifier %s, pack printed %s", pkg.ID, id)
	}
}

// TestPluginRunErrors checks that mistakes on the command line say what is wrong.
func TestPluginRunErrors(t *testing.T) {
	pkg := filepath.Join(MustRepoRoot(t), "examples/plugins/pytools")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"ErrUnknownTool", []string{"--tool", "nope"}, `no tool "nope" in provider pytools`},
		{"ErrUnknownParam", []string{"--tool", "echo", "--param", "colour=red"}, `has no parameter "colour"`},
		{"ErrBadBoolean", []string{"--tool", "echo", "--param", "text=x", "--param", "upper=maybe"}, "parameter upper"},
		{"ErrMissingRequired", []string{"--tool", "echo"}, `missing required parameter "text"`},
		{"ErrPythonEnvTimeout", []string{"--tool", "echo", "--python-env-timeout", "0s"}, "--python-env-timeout 0s: want a positive duration"},
		{"ErrPythonFindLinks", []string{"--tool", "echo", "--python-find-links", "/no/such/wheels"}, "--python-find-links /no/such/wheels: not a folder"},
		{"ErrPythonIndexURL", []string{"--tool", "echo", "--python-index-url", "ftp://mirror/simple"}, `--python-index-url "ftp://mirror/simple": want an http(s) URL`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, err := runCLI(t, t.TempDir(), append([]string{"plugin", "run", pkg}, tc.args...)...)
			if err == nil {
				t.Fatal("plugin run succeeded")
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q lacks %q", stderr, tc.want)
			}
		})
	}
}

// daemonProc is a `plugboard daemon` process.
type daemonProc struct {
	cmd *exec.Cmd
	url string
}

// startDaemon runs `plugboard daemon` on a free port and waits for its URL.
func startDaemon(t *testing.T, data, key string) *daemonProc {
	t.Helper()
	return startDaemonWith(t, "--data", data, "--api-key", key)
}

// startDaemonWith starts `plugboard daemon` on free ports with more args.
func startDaemonWith(t *testing.T, args ...string) *daemonProc {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"daemon", "--addr", "127.0.0.1:0", "--debug-addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("daemon printed nothing: %v", err)
	}
	url := regexp.MustCompile(`http://\S+`).FindString(line)
	if url == "" {
		t.Fatalf("no URL in %q", line)
	}
	go io.Copy(io.Discard, stdout)
	return &daemonProc{cmd: cmd, url: url}
}

// invokeEcho runs pytools' echo and returns the text it streamed.
func invokeEcho(ctx context.Context, cl *client.Client, text string) (string, error) {
	stream, err := cl.InvokeTool(ctx, "plugboard/pytools", apispec.InvokeToolData{
		Provider: "pytools", Tool: "echo", ToolParameters: map[string]any{"text": text},
	}, "test")
	if err != nil {
		return "", err
	}
	defer stream.Close()
	var out strings.Builder
	for {
		msg, err := stream.Next()
		if errors.Is(err, io.EOF) {
			return out.String(), nil
		}
		if err != nil {
			return out.String(), err
		}
		out.WriteString(msg.Text)
	}
}

// TestDaemonSurvivesKill9 installs a plugin, kills the daemon with SIGKILL,
// and checks that a new daemon on the same data serves it without a reinstall
// and that the old plugin process did not outlive its daemon.
func TestDaemonSurvivesKill9(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	data, key := t.TempDir(), "kill9-test-key"
	pkg, _, err := pkgfmt.Pack(os.DirFS(filepath.Join(MustRepoRoot(t), "examples/plugins/pytools")), pkgfmt.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}

	first := startDaemon(t, data, key)
	cl := client.New(first.url, key)
	up, err := cl.UploadPackage(ctx, "pytools.difypkg", bytes.NewReader(pkg))
	if err != nil {
		t.Fatal(err)
	}
	res, err := cl.Install(ctx, []string{up.UniqueIdentifier}, "package", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.WaitTask(ctx, res.TaskID); err != nil {
		t.Fatal(err)
	}
	if got, err := invokeEcho(ctx, cl, "before the crash"); err != nil || !strings.Contains(got, "crash") {
		t.Fatalf("echo before kill: %q, %v", got, err)
	}
	status, err := cl.PluginStatus(ctx, "plugboard/pytools")
	if err != nil || status.PID == 0 {
		t.Fatalf("status %+v, %v", status, err)
	}

	first.cmd.Process.Signal(syscall.SIGKILL)
	first.cmd.Wait()
	waitFor(t, ctx, "the old plugin process to die", func() bool {
		return syscall.Kill(status.PID, 0) != nil
	})

	second := startDaemon(t, data, key)
	cl = client.New(second.url, key)
	waitFor(t, ctx, "the plugin to run again", func() bool {
		s, err := cl.PluginStatus(ctx, "plugboard/pytools")
		return err == nil && s.State == apispec.StateRunning
	})
	if got, err := invokeEcho(ctx, cl, "after the restart"); err != nil || !strings.Contains(got, "restart") {
		t.Fatalf("echo after restart: %q, %v", got, err)
	}
	list, err := cl.List(ctx, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	if list.Total != 1 || list.List[0].PluginUniqueIdentifier != up.UniqueIdentifier {
		t.Errorf("after restart list = %+v, want the one installation", list)
	}
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
