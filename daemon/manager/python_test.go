package manager_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/manager"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/daemon/runner"
)

// packPy packs the pytools example with extra files (a requirements.txt …).
func packPy(tb testing.TB, files map[string]string) []byte {
	tb.Helper()
	dir := tb.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(repoRoot, "examples", "plugins", "pytools"))); err != nil {
		tb.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	data, _, err := pkgfmt.Pack(os.DirFS(dir), pkgfmt.DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// pytoolsManifest is the pytools example's manifest asking for Python version.
func pytoolsManifest(tb testing.TB, version string) string {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "examples", "plugins", "pytools", "manifest.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	out := regexp.MustCompile(`(?m)^(\s+version:) "3\.[0-9]+"`).ReplaceAllString(string(data), `$1 "`+version+`"`)
	if out == string(data) {
		tb.Fatal("pytools manifest has no meta.runner.version to replace")
	}
	return out
}

// MustOpenWith opens a manager on dir with runner options.
func MustOpenWith(tb testing.TB, dir string, opt runner.Options) *manager.Manager {
	tb.Helper()
	m, err := manager.Open(context.Background(), manager.Config{DataDir: dir, Runner: opt})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	return m
}

// MustStartInstall uploads data and starts installing it; it returns the task id.
func MustStartInstall(tb testing.TB, m *manager.Manager, data []byte) string {
	tb.Helper()
	uid := MustUpload(tb, m, data)
	res, err := m.Install(context.Background(), tenant, apispec.InstallRequest{PluginUniqueIdentifiers: []string{uid}, Source: "package"})
	if err != nil {
		tb.Fatal(err)
	}
	return res.TaskID
}

// MustWaitMessage polls a task until its plugin's message contains part
// while it is still running; it returns that message.
func MustWaitMessage(tb testing.TB, m *manager.Manager, id, part string) string {
	tb.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		task, err := m.Task(context.Background(), tenant, id)
		if err != nil {
			tb.Fatal(err)
		}
		p := task.Plugins[0]
		if p.Status == apispec.TaskFailed || p.Status == apispec.TaskSuccess {
			tb.Fatalf("task finished (%s: %q) before its message read %q", p.Status, p.Message, part)
		}
		if p.Stage == apispec.StagePreparing && strings.Contains(p.Message, part) {
			return p.Message
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("task %s never said %q", id, part)
	return ""
}

// logsContain reports whether a plugin's log has a line containing part.
func logsContain(tb testing.TB, m *manager.Manager, pluginID, part string) bool {
	tb.Helper()
	logs, err := m.Logs(context.Background(), tenant, pluginID, 0)
	if err != nil {
		tb.Fatal(err)
	}
	for _, l := range logs {
		if strings.Contains(l.Message, part) {
			return true
		}
	}
	return false
}

func TestPythonEnvironment(t *testing.T) {
	t.Run("OKInterpreterShown", func(t *testing.T) {
		dir := t.TempDir()
		m := MustOpenWith(t, dir, runner.Options{Offline: true})
		MustInstall(t, m, pkgs.py)
		st, err := m.Status(context.Background(), tenant, pyID)
		if err != nil {
			t.Fatal(err)
		}
		py := st.Python
		if py == nil || !filepath.IsAbs(py.Path) || !strings.HasPrefix(py.Version, "3.") || py.Source == "" {
			t.Fatalf("status python = %+v, want the venv's interpreter", py)
		}
		m.Close()
		again := MustOpenWith(t, dir, runner.Options{Offline: true})
		MustWaitState(t, again, pyID)
		list, err := again.List(context.Background(), tenant, 1, 10)
		if err != nil || len(list.List) != 1 || list.List[0].Runtime.Python == nil || *list.List[0].Runtime.Python != *py {
			t.Fatalf("after a restart the list shows python %+v, want %+v (err %v)", list.List[0].Runtime.Python, py, err)
		}
	})
	t.Run("OKDifyVersion", func(t *testing.T) {
		// Dify's official plugins declare 3.12; this host's python3 may be older.
		py312, _ := filepath.Glob(filepath.Join(os.Getenv("HOME"), ".pyenv", "versions", "3.12.*", "bin", "python3"))
		if len(py312) == 0 {
			t.Skip("no pyenv Python 3.12 on this host")
		}
		m := MustOpenWith(t, t.TempDir(), runner.Options{Offline: true})
		id := MustStartInstall(t, m, packPy(t, map[string]string{"manifest.yaml": pytoolsManifest(t, "3.12")}))
		if task := MustWaitTask(t, m, id); task.Status != apispec.TaskSuccess {
			t.Fatalf("install of a 3.12 package: %+v", task.Plugins)
		}
		st, err := m.Status(context.Background(), tenant, pyID)
		if err != nil || st.Python == nil || !strings.HasPrefix(st.Python.Version, "3.12.") {
			t.Fatalf("status python = %+v (%v), want 3.12.x", st.Python, err)
		}
		got, err := invokeText(m, pyID, toolRequest("pytools", "echo", map[string]any{"text": "on 3.12"}))
		if err != nil || got != "on 3.12" {
			t.Fatalf("echo = %q, %v", got, err)
		}
	})
	t.Run("ErrMissingDependencyOneSentence", func(t *testing.T) {
		m := MustOpenWith(t, t.TempDir(), runner.Options{Offline: true})
		id := MustStartInstall(t, m, packPy(t, map[string]string{"requirements.txt": "missingdep==1.0\n"}))
		p := MustWaitTask(t, m, id).Plugins[0]
		want := "Dependency missingdep==1.0 could not be installed: no matching version in no wheel folder or index (offline); ship it in the package's wheels/ folder"
		if p.Status != apispec.TaskFailed || p.Stage != apispec.StagePreparing || !strings.HasPrefix(p.Message, want) {
			t.Fatalf("task plugin = %s at %s: %q\nwant failed at %s with %q…", p.Status, p.Stage, p.Message, apispec.StagePreparing, want)
		}
		if strings.Contains(p.Message, "\n") || strings.Contains(p.Message, "ERROR") || len(p.Message) > 400 {
			t.Errorf("task message is not one sentence: %q", p.Message)
		}
		// pip's own output is in the plugin's log, though nothing is installed.
		if !logsContain(t, m, pyID, "ERROR: Could not find a version that satisfies the requirement missingdep==1.0") {
			t.Error("the plugin's log lacks pip's output")
		}
		if !logsContain(t, m, pyID, "-m pip ") {
			t.Error("the plugin's log lacks the pip command line")
		}
	})
	t.Run("ErrTimeLimit", func(t *testing.T) {
		// An index that accepts connections and never answers: pip waits.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		conns := make(chan net.Conn, 100)
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				conns <- c
			}
		}()
		index := "http://" + ln.Addr().String() + "/simple"
		limit := 15 * time.Second // room for creating the venv on a busy machine
		m := MustOpenWith(t, t.TempDir(), runner.Options{IndexURL: index, EnvTimeout: limit})
		id := MustStartInstall(t, m, packPy(t, map[string]string{"requirements.txt": "tinydep==1.0\n"}))
		MustWaitMessage(t, m, id, "looking up tinydep (1 of 1) in "+index)
		p := MustWaitTask(t, m, id).Plugins[0]
		want := "The Python environment was not ready within 15s (it was looking up tinydep (1 of 1) in " + index + "): make sure " + index + " can be reached"
		if p.Status != apispec.TaskFailed || !strings.HasPrefix(p.Message, want) || !strings.Contains(p.Message, "--python-env-timeout") {
			t.Fatalf("task plugin = %s: %q\nwant failed with %q… naming --python-env-timeout", p.Status, p.Message, want)
		}
		// pip was killed: the connection it held open is closed.
		c := <-conns
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(time.Minute))
		if _, err := io.Copy(io.Discard, c); err != nil && !errors.Is(err, syscall.ECONNRESET) { // its request, then EOF
			t.Errorf("pip's connection after the time limit: %v, want it closed", err)
		}
	})
}
