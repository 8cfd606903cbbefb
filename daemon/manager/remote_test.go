package manager_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/manager"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

// MustRemote attaches a remote gotools over a real TCP connection whose
// plugin end only sends a heartbeat; it returns that end, the identifier and
// the channel closed when the installation is gone.
func MustRemote(tb testing.TB, m *manager.Manager) (net.Conn, string, <-chan struct{}) {
	tb.Helper()
	pkg, err := pkgfmt.Decode(pkgs.goV1, pkgfmt.DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	plugin, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	d, err := ln.Accept()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { plugin.Close(); d.Close() })
	plugin.Write([]byte(`{"event":"heartbeat","data":{}}` + "\n"))
	uid, gone, err := m.AttachRemote(context.Background(), manager.RemotePlugin{
		Tenant: tenant, Manifest: pkg.Manifest, Assets: map[string][]byte{"icon.svg": []byte("<svg/>")},
		Reader: bufio.NewReader(d), Writer: d, Closer: d,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return plugin, uid, gone
}

// listed returns the tenant's installations.
func listed(tb testing.TB, m *manager.Manager) []apispec.Installation {
	tb.Helper()
	page, err := m.List(context.Background(), tenant, 1, 100)
	if err != nil {
		tb.Fatal(err)
	}
	return page.List
}

// wantClosed fails unless the daemon closes the plugin's connection.
func wantClosed(tb testing.TB, c net.Conn) {
	tb.Helper()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, err := io.Copy(io.Discard, c) // EOF (nil) or a reset: closed either way
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		tb.Fatalf("connection not closed by the daemon: %v", err)
	}
}

func TestAttachRemote(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		m := MustOpen(t, t.TempDir())
		plugin, uid, gone := MustRemote(t, m)
		list := listed(t, m)
		if len(list) != 1 || list[0].PluginUniqueIdentifier != uid || list[0].RuntimeType != "remote" || list[0].Source != "remote" {
			t.Fatalf("list %+v", list)
		}
		if man, err := m.Manifest(ctx, uid); err != nil || man.Name != "gotools" {
			t.Fatalf("manifest of the remote plugin: %v", err)
		}
		if icon, err := m.Asset(ctx, uid, "icon.svg"); err != nil || string(icon) != "<svg/>" {
			t.Fatalf("icon %q, %v", icon, err)
		}
		if err := m.Uninstall(ctx, tenant, list[0].ID); err != nil {
			t.Fatal(err)
		}
		wantClosed(t, plugin)
		<-gone
		if l := listed(t, m); len(l) != 0 {
			t.Fatalf("after uninstall list %+v", l)
		}
	})
	t.Run("Replace", func(t *testing.T) {
		m := MustOpen(t, t.TempDir())
		first, uid, _ := MustRemote(t, m)
		id := listed(t, m)[0].ID
		_, uid2, _ := MustRemote(t, m)
		wantClosed(t, first)
		list := listed(t, m)
		if uid2 != uid || len(list) != 1 || list[0].ID != id || list[0].Runtime.State != apispec.StateRunning {
			t.Fatalf("second connection %s, list %+v; want the same single running installation", uid2, list)
		}
	})
	t.Run("ErrLocalInstalled", func(t *testing.T) {
		m := MustOpen(t, t.TempDir())
		MustInstall(t, m, pkgs.goV1)
		pkg, _ := pkgfmt.Decode(pkgs.goV1, pkgfmt.DefaultLimits())
		_, _, err := m.AttachRemote(ctx, manager.RemotePlugin{Tenant: tenant, Manifest: pkg.Manifest})
		wantErr(t, err, plugboard.ECONFLICT, "plugboard/gotools", "uninstall it")
	})
	t.Run("ErrInstallWhileRemote", func(t *testing.T) {
		m := MustOpen(t, t.TempDir())
		MustRemote(t, m)
		res, err := m.Install(ctx, tenant, apispec.InstallRequest{PluginUniqueIdentifiers: []string{MustUpload(t, m, pkgs.goV1)}})
		if err != nil {
			t.Fatal(err)
		}
		task := MustWaitTask(t, m, res.TaskID)
		if task.Status != apispec.TaskFailed || len(task.Plugins) != 1 || !strings.Contains(task.Plugins[0].Message, "remote debugging") {
			t.Fatalf("install while connected: %+v", task)
		}
	})
}
