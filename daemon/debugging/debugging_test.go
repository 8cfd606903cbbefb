package debugging_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/debugging"
	"github.com/plugboard/plugboard/daemon/manager"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

const apiKey = "test-key"

// patience bounds every wait, so a hang fails instead of blocking forever.
const patience = 30 * time.Second

// gotoolsDir is the example Go plugin's source (its yaml and assets).
var gotoolsDir, _ = filepath.Abs("../../examples/plugins/gotools")

// gotools is the example plugin built once for the package's tests.
var gotools string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "debugging-test")
	if err != nil {
		panic(err)
	}
	gotools = filepath.Join(dir, "gotools")
	if out, err := exec.Command("go", "build", "-o", gotools, gotoolsDir).CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testDaemon is a daemon with its debugging port and a client.
type testDaemon struct {
	*daemon.Daemon
	c *client.Client
}

// MustDaemon starts a daemon on dataDir with remote debugging on debugAddr.
func MustDaemon(tb testing.TB, dataDir, debugAddr string) *testDaemon {
	tb.Helper()
	d, err := daemon.Start(context.Background(), daemon.Config{
		Addr: "127.0.0.1:0", DebugAddr: debugAddr, APIKey: apiKey,
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Manager:   manager.Config{DataDir: dataDir, Limits: pkgfmt.DefaultLimits()},
		Debugging: debugging.Config{HandshakeTimeout: 200 * time.Millisecond},
	})
	if err != nil {
		tb.Fatal(err)
	}
	td := &testDaemon{Daemon: d, c: client.New(d.URL(), apiKey)}
	tb.Cleanup(func() { td.close() })
	return td
}

func (d *testDaemon) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d.Close(ctx)
}

// MustKey returns the default tenant's debug key.
func (d *testDaemon) MustKey(tb testing.TB) string {
	tb.Helper()
	key, err := d.c.DebuggingKey(context.Background())
	if err != nil || key == "" {
		tb.Fatalf("debug key %q: %v", key, err)
	}
	return key
}

// MustConnect starts gotools in remote mode against d and waits until it is
// listed; it returns the process and its installation.
func (d *testDaemon) MustConnect(tb testing.TB, key string) (*exec.Cmd, apispec.Installation) {
	tb.Helper()
	host, port, _ := net.SplitHostPort(d.DebugAddr())
	cmd := exec.Command(gotools)
	cmd.Dir = gotoolsDir
	cmd.Env = append(os.Environ(), "INSTALL_METHOD=remote", "REMOTE_INSTALL_HOST="+host,
		"REMOTE_INSTALL_PORT="+port, "REMOTE_INSTALL_KEY="+key)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var in apispec.Installation
	d.waitFor(tb, "gotools listed", func(list []apispec.Installation) bool {
		for _, x := range list {
			if x.PluginID == "plugboard/gotools" {
				in = x
				return true
			}
		}
		return false
	})
	return cmd, in
}

// waitFor polls List until ok holds.
func (d *testDaemon) waitFor(tb testing.TB, what string, ok func([]apispec.Installation) bool) {
	tb.Helper()
	deadline := time.Now().Add(patience)
	for {
		page, err := d.c.List(context.Background(), 1, 100)
		if err != nil {
			tb.Fatal(err)
		}
		if ok(page.List) {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("waiting for %s: list is %+v", what, page.List)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// MustDial opens a raw connection to the debugging port.
func (d *testDaemon) MustDial(tb testing.TB) net.Conn {
	tb.Helper()
	c, err := net.Dial("tcp", d.DebugAddr())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(patience))
	return c
}

func gone(list []apispec.Installation) bool {
	for _, x := range list {
		if x.PluginID == "plugboard/gotools" {
			return false
		}
	}
	return true
}

func TestHandshake(t *testing.T) {
	d := MustDaemon(t, t.TempDir(), "127.0.0.1:0")
	t.Run("ErrWrongKey", func(t *testing.T) {
		d.MustKey(t)
		c := d.MustDial(t)
		c.Write([]byte(`{"type":"handshake","data":{"key":"not-the-key"}}` + "\n"))
		got, err := io.ReadAll(c)
		if err != nil || string(got) != debugging.InvalidKey+"\n" {
			t.Fatalf("reply %q, %v; want %q then close", got, err, debugging.InvalidKey+"\n")
		}
	})
	t.Run("ErrNoHandshake", func(t *testing.T) {
		c := d.MustDial(t)
		got, err := io.ReadAll(c)
		if err != nil || len(got) != 0 {
			t.Fatalf("reply %q, %v; want the connection closed", got, err)
		}
	})
	t.Run("ErrRegenerated", func(t *testing.T) {
		old := d.MustKey(t)
		fresh, err := d.c.RegenerateDebuggingKey(context.Background())
		if err != nil || fresh == old {
			t.Fatalf("regenerated %q (old %q): %v", fresh, old, err)
		}
		c := d.MustDial(t)
		c.Write([]byte(`{"type":"handshake","data":{"key":"` + old + `"}}` + "\n"))
		line, _ := bufio.NewReader(c).ReadString('\n')
		if line != debugging.InvalidKey+"\n" {
			t.Fatalf("old key after regenerate: %q, want refused", line)
		}
	})
	t.Run("ErrBadDeclaration", func(t *testing.T) {
		c := d.MustDial(t)
		c.Write([]byte(`{"type":"handshake","data":{"key":"` + d.MustKey(t) + `"}}` + "\n" +
			`{"type":"manifest_declaration","data":{"type":"plugin"}}` + "\n" + `{"type":"end","data":{}}` + "\n"))
		got, _ := io.ReadAll(c)
		if !strings.HasPrefix(string(got), "registration failed: ") || !strings.Contains(string(got), "version") {
			t.Fatalf("reply %q, want the declaration's problem", got)
		}
	})
}

func TestRemotePlugin(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	d := MustDaemon(t, dataDir, "127.0.0.1:0")
	key := d.MustKey(t)
	cmd, in := d.MustConnect(t, key)
	if in.RuntimeType != "remote" || in.Source != "remote" || in.Runtime == nil || in.Runtime.State != apispec.StateRunning {
		t.Fatalf("installation %+v (runtime %+v), want a running remote one", in, in.Runtime)
	}
	uid := in.PluginUniqueIdentifier
	if _, err := plugboard.ParseIdentifier(uid); err != nil || !strings.HasPrefix(uid, "plugboard/gotools:") {
		t.Fatalf("identifier %q: %v", uid, err)
	}

	t.Run("Invoke", func(t *testing.T) {
		s, err := d.c.InvokeTool(ctx, "plugboard/gotools", apispec.InvokeToolData{Provider: "gotools", Tool: "stream_text",
			ToolParameters: map[string]any{"text": "hello remote", "delay_ms": 0}}, "u1")
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var text string
		for {
			m, err := s.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			text += m.Text
		}
		if text != "hello remote" {
			t.Fatalf("output %q", text)
		}
		if tools, err := d.c.Tools(ctx, 1, 100); err != nil || len(tools) != 1 || tools[0].PluginUniqueIdentifier != uid {
			t.Fatalf("tools %+v: %v", tools, err)
		}
		if icon, _, err := d.c.Asset(ctx, uid, "icon.svg"); err != nil || len(icon) == 0 {
			t.Fatalf("icon: %d bytes, %v", len(icon), err)
		}
	})

	t.Run("ErrDisconnectInFlight", func(t *testing.T) {
		s, err := d.c.InvokeTool(ctx, "plugboard/gotools", apispec.InvokeToolData{Provider: "gotools", Tool: "stream_text",
			ToolParameters: map[string]any{"text": "one two three four", "delay_ms": 60000}}, "u1")
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if m, err := s.Next(); err != nil || m.Text != "one" {
			t.Fatalf("first chunk %+v, %v", m, err)
		}
		cmd.Process.Kill()
		cmd.Wait()
		_, err = s.Next()
		if err == nil || err == io.EOF || !strings.Contains(err.Error(), "disconnected") {
			t.Fatalf("in-flight invoke after the plugin died: %v, want a disconnected error", err)
		}
		d.waitFor(t, "gotools gone", gone)
	})

	t.Run("Reconnect", func(t *testing.T) {
		_, again := d.MustConnect(t, key)
		if again.PluginUniqueIdentifier != uid || again.ID != in.ID {
			t.Fatalf("reconnected as %s (%s), want %s (%s)", again.PluginUniqueIdentifier, again.ID, uid, in.ID)
		}
	})

	t.Run("AfterRestart", func(t *testing.T) {
		d.MustConnect(t, key) // stays running: the SDK connects again by itself
		debugAddr := d.DebugAddr()
		d.close()
		d2 := MustDaemon(t, dataDir, debugAddr)
		if k := d2.MustKey(t); k != key {
			t.Fatalf("debug key after restart %q, want %q", k, key)
		}
		var again apispec.Installation
		d2.waitFor(t, "gotools reconnected", func(list []apispec.Installation) bool {
			for _, x := range list {
				again = x
			}
			return len(list) == 1
		})
		if again.PluginUniqueIdentifier != uid || again.RuntimeType != "remote" {
			t.Fatalf("after restart connected as %s (%s), want %s", again.PluginUniqueIdentifier, again.RuntimeType, uid)
		}
		if page, _ := d2.c.List(ctx, 1, 100); page.Total != 1 {
			t.Fatalf("after restart list has %d installations, want 1", page.Total)
		}
	})
}
