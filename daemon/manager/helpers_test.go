package manager_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/manager"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/daemon/runner"
)

const (
	tenant   = "default"
	goID     = "plugboard/gotools"
	pyID     = "plugboard/pytools"
	repoRoot = "../.."
)

// pkgs are the test packages, built once in TestMain.
var pkgs struct {
	goV1, goV1Other, goV2, py, crasher, uuidAuthor []byte
}

// work is this test binary's scratch directory.
var work string

func TestMain(m *testing.M) {
	var err error
	if work, err = os.MkdirTemp("", "plugboard-manager-test-"); err == nil {
		err = buildPackages()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "build test packages:", err)
		os.RemoveAll(work)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(work)
	os.Exit(code)
}

func buildPackages() error {
	bin := filepath.Join(work, "gotools")
	cmd := exec.Command("go", "build", "-o", bin, "./examples/plugins/gotools")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build gotools: %v\n%s", err, out)
	}
	crash := filepath.Join(work, "crash.sh")
	if err := os.WriteFile(crash, []byte("#!/bin/sh\necho 'crasher: cannot start' >&2\nexit 3\n"), 0o755); err != nil {
		return err
	}
	var err error
	steps := []struct {
		out  *[]byte
		edit map[string]string
		bin  string
	}{
		{&pkgs.goV1, nil, bin},
		{&pkgs.goV2, map[string]string{"version": "0.0.2"}, bin},
		{&pkgs.goV1Other, map[string]string{"created_at": `"2026-02-02T00:00:00Z"`}, bin}, // same version, other code
		{&pkgs.crasher, map[string]string{"name": "crasher"}, crash},
		{&pkgs.uuidAuthor, map[string]string{"author": "0b9e4bd0-8b46-4c4f-9d51-7c0f1c3c0a2e"}, bin},
	}
	for i, s := range steps {
		if *s.out, err = packGo(fmt.Sprintf("go%d", i), s.edit, s.bin); err != nil {
			return err
		}
	}
	pkgs.py, _, err = pkgfmt.Pack(os.DirFS(filepath.Join(repoRoot, "examples", "plugins", "pytools")), pkgfmt.DefaultLimits())
	return err
}

// packGo packs a copy of the gotools example with top-level manifest fields
// replaced and bin as its executable for this host.
func packGo(name string, edit map[string]string, bin string) ([]byte, error) {
	dir := filepath.Join(work, "src-"+name)
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(repoRoot, "examples", "plugins", "gotools"))); err != nil {
		return nil, err
	}
	mf := filepath.Join(dir, "manifest.yaml")
	raw, err := os.ReadFile(mf)
	if err != nil {
		return nil, err
	}
	for field, value := range edit {
		raw = regexp.MustCompile(`(?m)^`+field+`:.*$`).ReplaceAll(raw, []byte(field+": "+value))
	}
	if err := os.WriteFile(mf, raw, 0o644); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	dst := filepath.Join(dir, "bin", goruntime.GOARCH, "gotools")
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		return nil, err
	}
	out, _, err := pkgfmt.Pack(os.DirFS(dir), pkgfmt.DefaultLimits())
	return out, err
}

// MustOpen opens a manager on dir; it is closed at the test's end.
func MustOpen(tb testing.TB, dir string) *manager.Manager {
	tb.Helper()
	m, err := manager.Open(context.Background(), manager.Config{
		DataDir: dir,
		Runner:  runner.Options{Offline: true},
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	return m
}

// MustUpload uploads a package and returns its identifier.
func MustUpload(tb testing.TB, m *manager.Manager, data []byte) string {
	tb.Helper()
	res, err := m.Upload(context.Background(), tenant, data)
	if err != nil {
		tb.Fatal(err)
	}
	return res.UniqueIdentifier
}

// MustInstall uploads and installs a package, waits for the task to succeed
// and returns the identifier.
func MustInstall(tb testing.TB, m *manager.Manager, data []byte) string {
	tb.Helper()
	uid := MustUpload(tb, m, data)
	res, err := m.Install(context.Background(), tenant, apispec.InstallRequest{PluginUniqueIdentifiers: []string{uid}, Source: "package"})
	if err != nil {
		tb.Fatal(err)
	}
	if res.AllInstalled {
		return uid
	}
	if task := MustWaitTask(tb, m, res.TaskID); task.Status != apispec.TaskSuccess {
		tb.Fatalf("install task %s: %+v", task.Status, task.Plugins)
	}
	return uid
}

// MustWaitTask polls a task of the default tenant until it finishes.
func MustWaitTask(tb testing.TB, m *manager.Manager, id string) *apispec.Task {
	tb.Helper()
	return MustWaitTaskOf(tb, m, tenant, id)
}

// MustWaitTaskOf polls a tenant's task until it finishes.
func MustWaitTaskOf(tb testing.TB, m *manager.Manager, tenantID, id string) *apispec.Task {
	tb.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		task, err := m.Task(context.Background(), tenantID, id)
		if err != nil {
			tb.Fatal(err)
		}
		if task.Status == apispec.TaskSuccess || task.Status == apispec.TaskFailed {
			return task
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("task %s did not finish", id)
	return nil
}

// MustWaitState polls a plugin's runtime status until it leaves "starting".
func MustWaitState(tb testing.TB, m *manager.Manager, pluginID string) *apispec.RuntimeStatus {
	tb.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		st, err := m.Status(context.Background(), tenant, pluginID)
		if err != nil {
			tb.Fatal(err)
		}
		if st.State != apispec.StateStarting {
			return st
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("plugin %s stayed starting", pluginID)
	return nil
}

// toolRequest is an invoke_tool request.
func toolRequest(provider, tool string, params map[string]any) *protocol.RequestData {
	return &protocol.RequestData{Type: protocol.TypeTool, Action: protocol.ActionInvokeTool,
		Provider: provider, Tool: tool, ToolParameters: params}
}

// invokeText invokes a tool and joins its text messages.
func invokeText(m *manager.Manager, pluginID string, req *protocol.RequestData) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := m.Invoke(ctx, tenant, pluginID, req)
	if err != nil {
		return "", err
	}
	defer s.Close()
	var out strings.Builder
	for {
		raw, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return out.String(), nil
		}
		if err != nil {
			return out.String(), err
		}
		var msg struct {
			Type    string
			Message protocol.TextMessage
		}
		if err := json.Unmarshal(raw, &msg); err != nil {
			return "", err
		}
		if msg.Type == protocol.MessageText {
			out.WriteString(msg.Message.Text)
		}
	}
}

// MustEcho checks that gotools streams text back.
func MustEcho(tb testing.TB, m *manager.Manager) {
	tb.Helper()
	got, err := invokeText(m, goID, toolRequest("gotools", "stream_text", map[string]any{"text": "hello plugin world", "delay_ms": 1}))
	if err != nil || got != "hello plugin world" {
		tb.Fatalf("stream_text = %q, %v; want \"hello plugin world\"", got, err)
	}
}

// wantErr fails unless err has the code and contains every part.
func wantErr(tb testing.TB, err error, code string, parts ...string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got no error, want %s error containing %q", code, parts)
	}
	if got := plugboard.ErrorCode(err); got != code {
		tb.Errorf("error code = %s, want %s (error: %v)", got, code, err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			tb.Errorf("error %q does not contain %q", err, p)
		}
	}
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// workDir is the working dir of an installed identifier in data dir.
func workDir(tb testing.TB, dir, uid string) string {
	tb.Helper()
	id, err := plugboard.ParseIdentifier(uid)
	if err != nil {
		tb.Fatal(err)
	}
	return filepath.Join(dir, "plugins", id.Author, id.Name+"-"+id.Version+"@"+id.Checksum)
}

// processesIn counts live processes whose executable lives under dir.
func processesIn(dir string) int {
	n := 0
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err == nil && strings.HasPrefix(string(data), dir+string(filepath.Separator)) {
			n++
		}
	}
	return n
}
