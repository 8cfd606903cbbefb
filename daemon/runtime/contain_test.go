package runtime_test

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/runtime"
	"github.com/plugboard/plugboard/daemon/sandbox"
)

// hostileHost lays out a daemon's data dir as Plugboard does, with secrets
// readable by anyone (0644, dirs 0755), so only the containment stands
// between them and the plugin. It returns the data dir and the plugin's
// working dir in it.
func hostileHost(t *testing.T) (data, dir string) {
	t.Helper()
	base, err := os.MkdirTemp("", "hostile-host-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	data = filepath.Join(base, "data")
	dir = filepath.Join(data, "daemon", "plugins", "acme", "hostile")
	for _, d := range []string{dir, filepath.Join(data, "daemon", "plugins", "acme", "other")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"master.key", "plugboard.db", "daemon/daemon.db", "daemon/plugins/acme/other/secret.txt"} {
		if err := os.WriteFile(filepath.Join(data, f), []byte("secret "+f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return data, dir
}

func hostileSpec(t *testing.T, data, dir string) runtime.Spec {
	return runtime.Spec{
		Key: "acme/hostile:0.0.1@" + t.Name(), PluginID: "acme/hostile",
		Dir: dir, Command: []string{hostilePlugin}, StartTimeout: patience,
		Env: []string{mark(t)}, Hide: []string{data},
	}
}

// report invokes a tool of the hostile plugin and decodes its report.
func report(t *testing.T, m *runtime.Manager, key, tool string, params map[string]any) (map[string]string, error) {
	t.Helper()
	texts, err := collect(t, MustInvoke(t, m, key, tool, params))
	if err != nil {
		return nil, err
	}
	if len(texts) != 1 {
		t.Fatalf("%s: got %q, want one report", tool, texts)
	}
	var out map[string]string
	if err := json.Unmarshal([]byte(texts[0]), &out); err != nil {
		t.Fatalf("%s: report %q: %v", tool, texts[0], err)
	}
	return out, nil
}

// daemonSecret is an entry of the test process's own environment (what
// /proc/PID/environ shows) that is not passed to plugins.
func daemonSecret(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/environ")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range strings.Split(string(b), "\x00") {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "", "PATH", "HOME", "LANG", "TZ", "TMPDIR":
		default:
			return kv
		}
	}
	t.Fatal("the test's environment has no variable to look for")
	return ""
}

func TestHostilePluginFiles(t *testing.T) {
	f := sandbox.Probe()
	if f.Landlock == 0 {
		t.Skip("this kernel lacks Landlock (no ABI reported): plugins are not confined to their own files here")
	}
	data, dir := hostileHost(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b := make([]byte, 5)
		c.SetReadDeadline(time.Now().Add(patience))
		n, _ := c.Read(b)
		got <- string(b[:n])
	}()

	m := MustManager(t, runtime.Config{})
	spec := MustStart(t, m, hostileSpec(t, data, dir))
	st, _ := m.Status(spec.Key)
	t.Logf("containment: %s", st.Containment)
	if !strings.Contains(st.Containment, fmt.Sprintf("landlock ABI %d", f.Landlock)) {
		t.Errorf("status says %q; want Landlock ABI %d named", st.Containment, f.Landlock)
	}
	outside := filepath.Join(os.TempDir(), "hostile-outside-"+strconv.Itoa(os.Getpid()))
	defer os.Remove(outside)
	// Readable by anyone and not in a hidden dir: only Landlock keeps it.
	elsewhere := filepath.Join(filepath.Dir(data), "elsewhere.txt")
	if err := os.WriteFile(elsewhere, []byte("not the plugin's"), 0o644); err != nil {
		t.Fatal(err)
	}
	secret := daemonSecret(t)
	denied := []string{
		"read " + filepath.Join(data, "master.key"),
		"read " + filepath.Join(data, "plugboard.db"),
		"read " + filepath.Join(data, "daemon/daemon.db"),
		"read " + filepath.Join(data, "daemon/plugins/acme/other/secret.txt"),
		"write " + filepath.Join(data, "hostile-was-here"),
		"write " + filepath.Join(data, "daemon/plugins/acme/other/hostile-was-here"),
		"write " + filepath.Join(data, "daemon/plugins/hostile-was-here"),
		"write " + outside,
		"read " + elsewhere,
		"parent environ",
	}
	r, err := report(t, m, spec.Key, "probe", map[string]any{
		"read": []string{
			filepath.Join(data, "master.key"), filepath.Join(data, "plugboard.db"),
			filepath.Join(data, "daemon/daemon.db"), filepath.Join(data, "daemon/plugins/acme/other/secret.txt"),
			elsewhere,
		},
		"write": []string{
			filepath.Join(data, "hostile-was-here"), filepath.Join(data, "daemon/plugins/acme/other/hostile-was-here"),
			filepath.Join(data, "daemon/plugins/hostile-was-here"), outside,
		},
		"secret": secret,
		"dial":   ln.Addr().String(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report: %v", r)
	for _, what := range denied {
		if r[what] == "ok" || r[what] == "" {
			t.Errorf("%s: %q, want it denied", what, r[what])
		}
	}
	for _, what := range []string{"write own dir", "write temp dir", "dial"} {
		if r[what] != "ok" {
			t.Errorf("%s: %q, want ok", what, r[what])
		}
	}
	if r["secret in /proc"] != "not found" {
		t.Errorf("the daemon's environment leaked: %s", r["secret in /proc"])
	}
	if b, err := os.ReadFile(filepath.Join(dir, "own-file")); err != nil || string(b) != "mine" {
		t.Errorf("own-file: %q, %v", b, err)
	}
	select {
	case s := <-got:
		if s != "hello" {
			t.Errorf("the loopback listener got %q", s)
		}
	case <-time.After(patience):
		t.Error("the loopback listener got nothing")
	}
	for _, f := range []string{"hostile-was-here", "daemon/plugins/acme/other/hostile-was-here", "daemon/plugins/hostile-was-here"} {
		if _, err := os.Stat(filepath.Join(data, f)); err == nil {
			t.Errorf("the plugin wrote %s", f)
		}
	}
}

func TestHostilePluginOrphans(t *testing.T) {
	data, dir := hostileHost(t)
	m := MustManager(t, fastRestarts)
	spec := MustStart(t, m, hostileSpec(t, data, dir))
	mark := spec.Env[0]
	// The launcher and the plugin, then a setsid'd grandchild of the plugin.
	orphan := func() {
		t.Helper()
		if r, err := report(t, m, spec.Key, "orphan", nil); err != nil || r["orphan"] != "ok" {
			t.Fatalf("orphan: %v, %v", r, err)
		}
		waitFor(t, "the orphan", func() bool { return markedProcesses(mark) == 3 })
	}
	orphan()
	if _, err := collect(t, MustInvoke(t, m, spec.Key, "crash", nil)); err == nil {
		t.Fatal("crash: no error")
	}
	waitFor(t, "the restart, without the orphan", func() bool {
		st, _ := m.Status(spec.Key)
		return st.State == apispec.StateRunning && st.Restarts == 1 && markedProcesses(mark) == 2
	})
	orphan()
	if err := m.Stop(spec.Key); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every process of the plugin to die with it", func() bool { return markedProcesses(mark) == 0 })
}

func TestHostilePluginForkBomb(t *testing.T) {
	if runtime.CgroupKind() == "" {
		t.Skip("no usable cgroup (v2 delegated, or v1 with a writable pids controller) on this host: the kernel cannot cap a plugin's processes here")
	}
	data, dir := hostileHost(t)
	const limit = 64
	m := MustManager(t, runtime.Config{PidsLimit: limit})
	spec := MustStart(t, m, hostileSpec(t, data, dir))
	r, err := report(t, m, spec.Key, "forkbomb", nil)
	// The bomb either reports the failed fork or dies of it (the Go runtime
	// cannot start a thread); either way it stayed under the limit.
	forked := maxLogged(m, spec.Key, "forked ")
	t.Logf("report %v, err %v; forked %d", r, err, forked)
	if err == nil && r["error"] == "" {
		t.Fatalf("the fork bomb was not stopped: %v", r)
	}
	if forked == 0 || forked >= limit {
		t.Fatalf("forked %d children; want some, and fewer than the limit %d", forked, limit)
	}
	if err := m.Stop(spec.Key); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every process of the plugin to die with it", func() bool { return markedProcesses(spec.Env[0]) == 0 })
}

func TestHostilePluginAlloc(t *testing.T) {
	data, dir := hostileHost(t)
	const limit = 64 << 20
	m := MustManager(t, runtime.Config{MemoryPoll: time.Hour}) // no help from the watchdog
	spec := hostileSpec(t, data, dir)
	spec.MemoryLimit = limit
	MustStart(t, m, spec)
	st, _ := m.Status(spec.Key)
	t.Logf("containment: %s", st.Containment)
	_, err := report(t, m, spec.Key, "alloc", map[string]any{"mb": 1024})
	if err == nil {
		t.Fatal("allocating 1 GiB under a 64 MiB limit succeeded")
	}
	// With a cgroup the kernel stops it at the limit; with RLIMIT_DATA at
	// twice the limit (the watchdog, off here, keeps the finer one).
	ceiling := 64
	if runtime.CgroupKind() == "" {
		ceiling = 128
	}
	if got := maxLogged(m, spec.Key, "allocated "); got > ceiling {
		t.Fatalf("the plugin allocated %d MiB under a %d MiB limit", got, limit>>20)
	}
	if runtime.CgroupKind() != "" && !strings.Contains(err.Error(), "over its memory limit") {
		t.Fatalf("got %v; want the memory limit named", err)
	}
}

// maxLogged is the largest N of the plugin's stderr lines "<prefix>N…".
func maxLogged(m *runtime.Manager, key, prefix string) int {
	most := 0
	for _, e := range m.Logs(key, 0) {
		if rest, ok := strings.CutPrefix(e.Message, prefix); ok {
			if n, err := strconv.Atoi(strings.Fields(rest)[0]); err == nil && n > most {
				most = n
			}
		}
	}
	return most
}

// A child that leaves the plugin's process group still counts toward the
// plugin's memory.
func TestHostilePluginChildAlloc(t *testing.T) {
	data, dir := hostileHost(t)
	const limit = 64 << 20
	m := MustManager(t, runtime.Config{MemoryPoll: time.Hour}) // no help from the watchdog
	spec := hostileSpec(t, data, dir)
	spec.MemoryLimit = limit
	MustStart(t, m, spec)
	r, err := report(t, m, spec.Key, "childalloc", map[string]any{"mb": 1024})
	t.Logf("report %v, err %v", r, err)
	if err == nil && r["child"] == "ok" {
		t.Fatal("a child allocated 1 GiB under the plugin's 64 MiB limit")
	}
	ceiling := 64
	if runtime.CgroupKind() == "" {
		ceiling = 128
	}
	if got := maxLogged(m, spec.Key, "allocated "); got > ceiling {
		t.Fatalf("the child allocated %d MiB under a %d MiB limit", got, limit>>20)
	}
}

// A daemon that is not root gets no dedicated uid and no cgroup, but still a
// user namespace with PID and mount namespaces, Landlock and RLIMIT_DATA:
// the hostile tests pass as an unprivileged user too.
func TestHostilePluginUnprivileged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("already unprivileged: the hostile tests above ran as this user")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("no setpriv (util-linux) to run the tests as another user")
	}
	dir, err := os.MkdirTemp("", "runtime-unprivileged-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "runtime.test")
	if err := copyFile(os.Args[0], bin); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
		bin, "-test.run", "^TestHostilePlugin(Files|Orphans|Alloc|ChildAlloc)$", "-test.v")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, envPrebuilt + "=" + goPlugin + ":" + hostilePlugin}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("as uid 65534: %v\n%s", err, out)
	}
	wants := []string{"--- PASS: TestHostilePluginOrphans", "--- PASS: TestHostilePluginAlloc", "--- PASS: TestHostilePluginChildAlloc"}
	if sandbox.Probe().Landlock > 0 { // otherwise it skips, saying why
		wants = append(wants, "--- PASS: TestHostilePluginFiles")
	}
	for _, want := range wants {
		if !strings.Contains(string(out), want) {
			t.Errorf("as uid 65534, no %q:\n%s", want, out)
		}
	}
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o755)
}
