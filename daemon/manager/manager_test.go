package manager_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/manager"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/daemon/sandbox"
)

func TestUpload(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		dir := t.TempDir()
		m := MustOpen(t, dir)
		res, err := m.Upload(ctx, tenant, pkgs.goV1)
		if err != nil {
			t.Fatal(err)
		}
		if res.Manifest.PluginID() != goID || res.Manifest.Verified || res.Verification != nil {
			t.Errorf("upload result = %+v, want %s unverified without verification", res, goID)
		}
		if again := MustUpload(t, m, pkgs.goV1); again != res.UniqueIdentifier {
			t.Errorf("re-upload identifier = %s, want %s", again, res.UniqueIdentifier)
		}
		man, err := m.Manifest(ctx, res.UniqueIdentifier)
		if err != nil || man.Tool == nil || man.Tool.Identity.Name != "gotools" {
			t.Fatalf("Manifest = %+v, %v", man, err)
		}
		icon, err := m.Asset(ctx, res.UniqueIdentifier, man.Icon)
		if err != nil || len(icon) == 0 {
			t.Fatalf("Asset(%s) = %d bytes, %v", man.Icon, len(icon), err)
		}
	})
	t.Run("ErrNotAPackage", func(t *testing.T) {
		_, err := MustOpen(t, t.TempDir()).Upload(ctx, tenant, []byte("not a zip"))
		wantErr(t, err, plugboard.EINVALID)
	})
	t.Run("ErrUUIDAuthor", func(t *testing.T) {
		_, err := MustOpen(t, t.TempDir()).Upload(ctx, tenant, pkgs.uuidAuthor)
		wantErr(t, err, plugboard.EINVALID, "author", "UUID")
	})
	t.Run("ErrManifestNotUploaded", func(t *testing.T) {
		_, err := MustOpen(t, t.TempDir()).Manifest(ctx, "acme/x:0.0.1@0123456789abcdef0123456789abcdef")
		wantErr(t, err, plugboard.ENOTFOUND, "acme/x:0.0.1@0123456789abcdef0123456789abcdef")
	})
}

func TestInstall(t *testing.T) {
	ctx := context.Background()
	t.Run("OKGo", func(t *testing.T) {
		dir := t.TempDir()
		m := MustOpen(t, dir)
		uid := MustInstall(t, m, pkgs.goV1)
		MustEcho(t, m)
		if !exists(filepath.Join(workDir(t, dir, uid), ".plugboard-ready")) {
			t.Error("working dir has no .plugboard-ready marker")
		}
		list, err := m.List(ctx, tenant, 1, 10)
		if err != nil || list.Total != 1 || len(list.List) != 1 {
			t.Fatalf("List = %+v, %v", list, err)
		}
		got := list.List[0]
		if got.PluginUniqueIdentifier != uid || got.Category != "tool" || got.Runtime.State != apispec.StateRunning || got.Source != "package" {
			t.Errorf("installation = %+v, runtime %+v", got, got.Runtime)
		}
		tools, err := m.Tools(ctx, tenant, 1, 10)
		if err != nil || len(tools) != 1 || tools[0].Provider != "gotools" || len(tools[0].Declaration.Tools) != 7 {
			t.Errorf("Tools = %+v, %v", tools, err)
		}
		if m.Installed() != 1 {
			t.Errorf("Installed() = %d, want 1", m.Installed())
		}
	})
	t.Run("OKStagesRecorded", func(t *testing.T) {
		m := MustOpen(t, t.TempDir())
		uid := MustUpload(t, m, pkgs.goV1)
		res, err := m.Install(ctx, tenant, apispec.InstallRequest{PluginUniqueIdentifiers: []string{uid}})
		if err != nil || res.AllInstalled || res.TaskID == "" {
			t.Fatalf("Install = %+v, %v", res, err)
		}
		task := MustWaitTask(t, m, res.TaskID)
		p := task.Plugins[0]
		if task.Status != apispec.TaskSuccess || task.CompletedPlugins != 1 || p.Stage != apispec.StageReady || p.Message != "installed" || p.PluginID != goID {
			t.Errorf("task = %+v", task)
		}
		again, err := m.Install(ctx, tenant, apispec.InstallRequest{PluginUniqueIdentifiers: []string{uid}})
		if err != nil || !again.AllInstalled || again.TaskID != "" {
			t.Errorf("second Install = %+v, %v; want all_installed", again, err)
		}
	})
	t.Run("OKPython", func(t *testing.T) {
		m := MustOpen(t, t.TempDir())
		MustInstall(t, m, pkgs.py)
		got, err := invokeText(m, pyID, toolRequest("pytools", "echo", map[string]any{"text": "hello from python"}))
		if err != nil || got != "hello from python" {
			t.Fatalf("echo = %q, %v", got, err)
		}
		// Its interpreter (under a 0700 /root here) and venv stay readable
		// under a dedicated uid, with the data dir hidden.
		st, err := m.Status(ctx, tenant, pyID)
		if err != nil {
			t.Fatal(err)
		}
		if f := sandbox.Probe(); f.Root && f.Namespaces && (!strings.Contains(st.Containment, "uid ") || !strings.Contains(st.Containment, "data dir hidden")) {
			t.Errorf("containment %q; want a dedicated uid and the data dir hidden", st.Containment)
		}
	})
	t.Run("ErrUnknownIdentifier", func(t *testing.T) {
		uid := "plugboard/nothing:0.0.1@0123456789abcdef0123456789abcdef"
		_, err := MustOpen(t, t.TempDir()).Install(ctx, tenant, apispec.InstallRequest{PluginUniqueIdentifiers: []string{uid}})
		wantErr(t, err, plugboard.ENOTFOUND, uid)
	})
	t.Run("ErrBadIdentifier", func(t *testing.T) {
		_, err := MustOpen(t, t.TempDir()).Install(ctx, tenant, apispec.InstallRequest{PluginUniqueIdentifiers: []string{"nope"}})
		wantErr(t, err, plugboard.EINVALID, `"nope"`)
	})
	t.Run("ErrPluginExitsAtStart", func(t *testing.T) {
		dir := t.TempDir()
		m := MustOpen(t, dir)
		uid := MustUpload(t, m, pkgs.crasher)
		res, err := m.Install(ctx, tenant, apispec.InstallRequest{PluginUniqueIdentifiers: []string{uid}})
		if err != nil {
			t.Fatal(err)
		}
		task := MustWaitTask(t, m, res.TaskID)
		p := task.Plugins[0]
		if task.Status != apispec.TaskFailed || p.Status != apispec.TaskFailed || p.Stage != apispec.StageStarting {
			t.Errorf("task = %+v, want failed at stage starting", task)
		}
		if !strings.Contains(p.Message, "exited before it was ready") || !strings.Contains(p.Message, "crasher: cannot start") {
			t.Errorf("task message = %q, want the exit and the plugin's stderr", p.Message)
		}
		if list, _ := m.List(ctx, tenant, 1, 10); list.Total != 0 {
			t.Errorf("List after a failed install = %+v, want empty", list)
		}
		if exists(workDir(t, dir, uid)) {
			t.Error("a failed install left its working dir")
		}
	})
}

func TestConcurrentInstall(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	m := MustOpen(t, dir)
	uid := MustUpload(t, m, pkgs.goV1)
	var wg sync.WaitGroup
	tasks := make([]string, 2)
	for i := range tasks {
		wg.Go(func() {
			res, err := m.Install(ctx, tenant, apispec.InstallRequest{PluginUniqueIdentifiers: []string{uid}})
			if err != nil {
				t.Error(err)
				return
			}
			tasks[i] = res.TaskID
		})
	}
	wg.Wait()
	var messages []string
	for _, id := range tasks {
		if id == "" {
			continue
		}
		task := MustWaitTask(t, m, id)
		if task.Status != apispec.TaskSuccess {
			t.Errorf("task = %+v, want success", task)
		}
		messages = append(messages, task.Plugins[0].Message)
	}
	if fresh := slices.Index(messages, "installed"); len(messages) == 2 && (fresh < 0 || messages[1-fresh] != "already installed") {
		t.Errorf("task messages = %q, want one \"installed\" and one \"already installed\"", messages)
	}
	if list, _ := m.List(ctx, tenant, 1, 10); list.Total != 1 {
		t.Errorf("installations = %d, want 1", list.Total)
	}
	if n := processesIn(workDir(t, dir, uid)); n != 1 {
		t.Errorf("plugin processes = %d, want 1 (task messages %q)", n, messages)
	}
	MustEcho(t, m)
}

func TestInvoke(t *testing.T) {
	m := MustOpen(t, t.TempDir())
	MustInstall(t, m, pkgs.goV1)
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) { MustEcho(t, m) })
	t.Run("OKDefaultedParameterLeftOut", func(t *testing.T) {
		got, err := invokeText(m, goID, toolRequest("gotools", "stream_text", map[string]any{"text": "one"}))
		if err != nil || got != "one" {
			t.Fatalf("stream_text = %q, %v", got, err)
		}
	})
	t.Run("ErrPluginNotInstalled", func(t *testing.T) {
		_, err := m.Invoke(ctx, tenant, "acme/x", toolRequest("x", "y", nil))
		wantErr(t, err, plugboard.ENOTFOUND, "plugin acme/x is not installed")
	})
	t.Run("ErrOtherTenant", func(t *testing.T) {
		_, err := m.Invoke(ctx, "other", goID, toolRequest("gotools", "stream_text", map[string]any{"text": "x"}))
		wantErr(t, err, plugboard.ENOTFOUND, "not installed")
	})
	t.Run("ErrUnknownProvider", func(t *testing.T) {
		_, err := m.Invoke(ctx, tenant, goID, toolRequest("nope", "stream_text", nil))
		wantErr(t, err, plugboard.ENOTFOUND, `"nope"`, `"gotools"`)
	})
	t.Run("ErrUnknownTool", func(t *testing.T) {
		_, err := m.Invoke(ctx, tenant, goID, toolRequest("gotools", "nope", nil))
		wantErr(t, err, plugboard.ENOTFOUND, `no tool "nope"`, "crash, file_info, json_echo, render_png, stats, stream_text, whoami")
	})
	t.Run("ErrMissingParameter", func(t *testing.T) {
		_, err := m.Invoke(ctx, tenant, goID, toolRequest("gotools", "stream_text", map[string]any{"delay_ms": 1}))
		wantErr(t, err, plugboard.EINVALID, `missing required parameter "text" of tool stream_text`)
	})
	t.Run("ErrEmptyParameter", func(t *testing.T) {
		_, err := m.Invoke(ctx, tenant, goID, toolRequest("gotools", "stream_text", map[string]any{"text": ""}))
		wantErr(t, err, plugboard.EINVALID, `missing required parameter "text"`)
	})
	t.Run("OKValidateCredentials", func(t *testing.T) {
		req := &protocol.RequestData{Type: protocol.TypeTool, Action: protocol.ActionValidateToolCredentials,
			Provider: "gotools", Credentials: map[string]any{"api_key": "demo-12345"}}
		s, err := m.Invoke(ctx, tenant, goID, req)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if raw, err := s.Recv(); err != nil || !strings.Contains(string(raw), "true") {
			t.Errorf("validate_credentials = %s, %v; want a true result", raw, err)
		}
	})
}

func TestUninstall(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		dir := t.TempDir()
		m := MustOpen(t, dir)
		uid := MustInstall(t, m, pkgs.goV1)
		list, _ := m.List(ctx, tenant, 1, 10)
		pid := list.List[0].Runtime.PID
		if err := m.Uninstall(ctx, tenant, list.List[0].ID); err != nil {
			t.Fatal(err)
		}
		if list, _ := m.List(ctx, tenant, 1, 10); list.Total != 0 {
			t.Errorf("List after uninstall = %+v", list)
		}
		if exists(workDir(t, dir, uid)) {
			t.Error("working dir left after uninstall")
		}
		id, _ := plugboard.ParseIdentifier(uid)
		if exists(filepath.Join(dir, "packages", id.Author, id.Name+"-"+id.Version+"@"+id.Checksum+".difypkg")) {
			t.Error("package file left after the last installation went")
		}
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("plugin process %d still alive after uninstall", pid)
		}
		_, err := m.Invoke(ctx, tenant, goID, toolRequest("gotools", "stream_text", map[string]any{"text": "x"}))
		wantErr(t, err, plugboard.ENOTFOUND, "not installed")
	})
	t.Run("OKSharedPackageKeepsRunning", func(t *testing.T) {
		m := MustOpen(t, t.TempDir())
		uid := MustInstall(t, m, pkgs.goV1)
		res, err := m.Install(ctx, "other", apispec.InstallRequest{PluginUniqueIdentifiers: []string{uid}})
		if err != nil {
			t.Fatal(err)
		}
		if task := MustWaitTaskOf(t, m, "other", res.TaskID); task.Status != apispec.TaskSuccess {
			t.Fatalf("install for a second tenant: %+v", task)
		}
		list, _ := m.List(ctx, "other", 1, 10)
		if err := m.Uninstall(ctx, "other", list.List[0].ID); err != nil {
			t.Fatal(err)
		}
		MustEcho(t, m) // the default tenant's installation still serves
	})
	t.Run("ErrUnknown", func(t *testing.T) {
		err := MustOpen(t, t.TempDir()).Uninstall(ctx, tenant, "nope")
		wantErr(t, err, plugboard.ENOTFOUND, "installation nope not found")
	})
}

func TestUpgrade(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		dir := t.TempDir()
		m := MustOpen(t, dir)
		v1 := MustInstall(t, m, pkgs.goV1)
		before, _ := m.List(ctx, tenant, 1, 10)
		v2 := MustUpload(t, m, pkgs.goV2)
		res, err := m.Upgrade(ctx, tenant, apispec.UpgradeRequest{OriginalPluginUniqueIdentifier: v1, NewPluginUniqueIdentifier: v2, Source: "package"})
		if err != nil {
			t.Fatal(err)
		}
		task := MustWaitTask(t, m, res.TaskID)
		if task.Status != apispec.TaskSuccess || task.Plugins[0].Message != "upgraded from 0.0.1" {
			t.Fatalf("upgrade task = %+v", task)
		}
		list, _ := m.List(ctx, tenant, 1, 10)
		got := list.List[0]
		if list.Total != 1 || got.Version != "0.0.2" || got.ID != before.List[0].ID {
			t.Errorf("after upgrade: %+v, want the same installation at 0.0.2", list)
		}
		if exists(workDir(t, dir, v1)) || !exists(workDir(t, dir, v2)) {
			t.Error("old working dir kept or new one missing")
		}
		if err := syscall.Kill(before.List[0].Runtime.PID, 0); err == nil {
			t.Error("old version's process still alive")
		}
		MustEcho(t, m)
	})
	t.Run("OKInvocationsDuringUpgrade", func(t *testing.T) {
		m := MustOpen(t, t.TempDir())
		v1 := MustInstall(t, m, pkgs.goV1)
		v2 := MustUpload(t, m, pkgs.goV2)
		done := make(chan struct{})
		var calls, failures int
		var firstErr error
		var wg sync.WaitGroup
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				calls++
				got, err := invokeText(m, goID, toolRequest("gotools", "stream_text", map[string]any{"text": "a b", "delay_ms": 1}))
				if err != nil || got != "a b" {
					failures++
					firstErr = fmt.Errorf("%q, %v", got, err)
				}
			}
		})
		res, err := m.Upgrade(ctx, tenant, apispec.UpgradeRequest{OriginalPluginUniqueIdentifier: v1, NewPluginUniqueIdentifier: v2})
		if err != nil {
			t.Fatal(err)
		}
		task := MustWaitTask(t, m, res.TaskID)
		close(done)
		wg.Wait()
		if task.Status != apispec.TaskSuccess || failures > 0 || calls == 0 {
			t.Errorf("upgrade %s; %d of %d invocations failed (first: %v)", task.Status, failures, calls, firstErr)
		}
	})
	t.Run("ErrDifferentPlugins", func(t *testing.T) {
		m := MustOpen(t, t.TempDir())
		goUID := MustInstall(t, m, pkgs.goV1)
		pyUID := MustUpload(t, m, pkgs.py)
		_, err := m.Upgrade(ctx, tenant, apispec.UpgradeRequest{OriginalPluginUniqueIdentifier: goUID, NewPluginUniqueIdentifier: pyUID})
		wantErr(t, err, plugboard.EINVALID, "different plugins")
	})
	t.Run("ErrSameVersionOtherCode", func(t *testing.T) {
		m := MustOpen(t, t.TempDir())
		v1 := MustInstall(t, m, pkgs.goV1)
		other := MustUpload(t, m, pkgs.goV1Other)
		_, err := m.Upgrade(ctx, tenant, apispec.UpgradeRequest{OriginalPluginUniqueIdentifier: v1, NewPluginUniqueIdentifier: other})
		wantErr(t, err, plugboard.ECONFLICT, "v0.0.1 is installed with other code", "confirm_code_change")
		_, err = m.Install(ctx, tenant, apispec.InstallRequest{PluginUniqueIdentifiers: []string{other}})
		wantErr(t, err, plugboard.ECONFLICT, "v0.0.1 is installed with other code", "confirm_code_change")
		if list, _ := m.List(ctx, tenant, 1, 10); list.List[0].PluginUniqueIdentifier != v1 {
			t.Fatalf("a refused install changed the installation: %+v", list.List[0])
		}
	})
	t.Run("OKSameVersionConfirmed", func(t *testing.T) {
		m := MustOpen(t, t.TempDir())
		v1 := MustInstall(t, m, pkgs.goV1)
		other := MustUpload(t, m, pkgs.goV1Other)
		res, err := m.Upgrade(ctx, tenant, apispec.UpgradeRequest{OriginalPluginUniqueIdentifier: v1, NewPluginUniqueIdentifier: other, ConfirmCodeChange: true})
		if err != nil {
			t.Fatal(err)
		}
		task := MustWaitTask(t, m, res.TaskID)
		if task.Status != apispec.TaskSuccess || !strings.Contains(task.Plugins[0].Message, "replaced the code of v0.0.1") {
			t.Fatalf("task = %+v", task)
		}
		if list, _ := m.List(ctx, tenant, 1, 10); list.List[0].PluginUniqueIdentifier != other {
			t.Fatalf("installation = %+v, want %s", list.List[0], other)
		}
	})
	t.Run("ErrNotInstalled", func(t *testing.T) {
		m := MustOpen(t, t.TempDir())
		v1 := MustUpload(t, m, pkgs.goV1)
		v2 := MustUpload(t, m, pkgs.goV2)
		_, err := m.Upgrade(ctx, tenant, apispec.UpgradeRequest{OriginalPluginUniqueIdentifier: v1, NewPluginUniqueIdentifier: v2})
		wantErr(t, err, plugboard.ENOTFOUND, "is not installed")
	})
}

func TestRestore(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		dir := t.TempDir()
		m := MustOpen(t, dir)
		MustInstall(t, m, pkgs.goV1)
		MustInstall(t, m, pkgs.py)
		m.Close()
		m = MustOpen(t, dir)
		for _, id := range []string{goID, pyID} {
			if st := MustWaitState(t, m, id); st.State != apispec.StateRunning {
				t.Errorf("%s after reopen: %+v", id, st)
			}
		}
		MustEcho(t, m)
		if tasks, _ := m.Tasks(ctx, tenant, 1, 10); len(tasks) != 2 {
			t.Errorf("tasks after reopen = %d, want the 2 installs (no reinstall)", len(tasks))
		}
	})
	t.Run("OKBrokenDirRebuilt", func(t *testing.T) {
		dir := t.TempDir()
		m := MustOpen(t, dir)
		uid := MustInstall(t, m, pkgs.goV1)
		m.Close()
		// What a kill -9 mid-prepare leaves: no marker, a truncated binary.
		wd := workDir(t, dir, uid)
		os.Remove(filepath.Join(wd, ".plugboard-ready"))
		matches, _ := filepath.Glob(filepath.Join(wd, "bin", "*", "gotools"))
		for _, p := range matches {
			os.WriteFile(p, nil, 0o755)
		}
		m = MustOpen(t, dir)
		if st := MustWaitState(t, m, goID); st.State != apispec.StateRunning {
			t.Fatalf("after reopen: %+v", st)
		}
		if !exists(filepath.Join(wd, ".plugboard-ready")) {
			t.Error("working dir was not prepared again")
		}
		MustEcho(t, m)
	})
	t.Run("OKStaleDirRemoved", func(t *testing.T) {
		dir := t.TempDir()
		m := MustOpen(t, dir)
		m.Close()
		stale := filepath.Join(dir, "plugins", "plugboard", "gotools-9.9.9@abc")
		os.MkdirAll(stale, 0o755)
		MustOpen(t, dir)
		if exists(stale) {
			t.Error("a working dir no installation uses was kept")
		}
	})
	t.Run("ErrPackageFileLostKeepsInstallation", func(t *testing.T) {
		dir := t.TempDir()
		m := MustOpen(t, dir)
		uid := MustInstall(t, m, pkgs.goV1)
		m.Close()
		os.RemoveAll(workDir(t, dir, uid))
		os.RemoveAll(filepath.Join(dir, "packages"))
		m = MustOpen(t, dir)
		st := MustWaitState(t, m, goID)
		if st.State != apispec.StateFailed || !strings.Contains(st.LastError, "missing") {
			t.Errorf("status = %+v, want failed saying the package file is missing", st)
		}
		if list, _ := m.List(ctx, tenant, 1, 10); list.Total != 1 {
			t.Errorf("installation dropped after a failed restore: %+v", list)
		}
		logs, _ := m.Logs(ctx, tenant, goID, 10)
		if len(logs) == 0 || !strings.Contains(logs[len(logs)-1].Message, "missing") {
			t.Errorf("logs = %+v, want the restore error", logs)
		}
	})
}

func TestTasks(t *testing.T) {
	ctx := context.Background()
	m := MustOpen(t, t.TempDir())
	MustInstall(t, m, pkgs.goV1)
	tasks, err := m.Tasks(ctx, tenant, 1, 10)
	if err != nil || len(tasks) != 1 {
		t.Fatalf("Tasks = %+v, %v", tasks, err)
	}
	t.Run("ErrDeleteUnknown", func(t *testing.T) {
		wantErr(t, m.DeleteTask(ctx, tenant, "nope"), plugboard.ENOTFOUND, "nope")
	})
	t.Run("OKDelete", func(t *testing.T) {
		if err := m.DeleteTask(ctx, tenant, tasks[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Task(ctx, tenant, tasks[0].ID); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Errorf("deleted task still found: %v", err)
		}
	})
}

func TestMemoryLimit(t *testing.T) {
	python := func(mem int64) *plugboard.Manifest {
		m := &plugboard.Manifest{Resource: plugboard.Resource{Memory: mem}}
		m.Meta.Runner.Language = plugboard.RunnerPython
		return m
	}
	binary := func(mem int64) *plugboard.Manifest {
		m := &plugboard.Manifest{Resource: plugboard.Resource{Memory: mem}}
		m.Meta.Runner.Language = plugboard.RunnerBinary
		return m
	}
	cases := []struct {
		name string
		m    *plugboard.Manifest
		want int64
	}{
		{"PythonDeclares1MiB", python(1 << 20), manager.MinPythonMemory},
		{"PythonDeclares1GiB", python(1 << 30), 1 << 30},
		{"BinaryDeclares1MiB", binary(1 << 20), manager.MinBinaryMemory},
		{"BinaryDeclares64MiB", binary(64 << 20), 64 << 20},
		{"NoneDeclared", binary(0), 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := manager.MemoryLimit(tc.m); got != tc.want {
				t.Errorf("MemoryLimit = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestOpenRelativeDataDir opens the manager on a relative data directory,
// as `plugboard serve` does by default: a binary plugin still starts (its
// executable path must not be taken relative to its own working directory).
func TestOpenRelativeDataDir(t *testing.T) {
	t.Chdir(t.TempDir())
	m := MustOpen(t, filepath.Join("data", "daemon"))
	MustInstall(t, m, pkgs.goV1)
	MustEcho(t, m)
}

func TestPluginSettingsKept(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	m := MustOpen(t, dir)
	MustInstall(t, m, pkgs.goV1)
	if _, err := m.SetPluginSettings(ctx, tenant, apispec.PluginSettings{PluginID: goID, InvokeTimeoutSeconds: 42}); err != nil {
		t.Fatal(err)
	}
	m.Close()
	m = MustOpen(t, dir)
	st, err := m.PluginSettings(ctx, tenant, goID)
	if err != nil || st.InvokeTimeoutSeconds != 42 {
		t.Fatalf("after a restart: %+v, %v; want 42 s kept", st, err)
	}
	if _, err := m.PluginSettings(ctx, "other-tenant", goID); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
		t.Fatalf("another tenant's view: %v", err)
	}
}
