package sdktest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/plugboard/plugboard/daemon"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/manager"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/sdk/devkit"
)

// MustInstalled starts a real daemon on a loopback port, packs the plugin
// in dir as `plugboard plugin pack` does, installs it, and returns a client
// of the daemon; the daemon stops when the test ends. Skipped with -short.
func MustInstalled(tb testing.TB, dir string) *client.Client {
	tb.Helper()
	if testing.Short() {
		tb.Skip("builds and runs the plugin under a daemon")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := daemon.Start(ctx, daemon.Config{Addr: "127.0.0.1:0", APIKey: "test-key", Logger: log,
		Manager: manager.Config{DataDir: tb.TempDir(), Limits: pkgfmt.DefaultLimits(), Logger: log}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		d.Close(ctx)
	})
	c := client.New(d.URL(), "test-key")
	data, _, err := devkit.PackDir(ctx, dir, pkgfmt.DefaultLimits(), io.Discard)
	if err != nil {
		tb.Fatal(err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		tb.Fatal(err)
	}
	up, err := c.UploadPackage(ctx, filepath.Base(abs)+".difypkg", bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	res, err := c.Install(ctx, []string{up.UniqueIdentifier}, "package", nil)
	if err == nil && !res.AllInstalled {
		_, err = c.WaitTask(ctx, res.TaskID)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
