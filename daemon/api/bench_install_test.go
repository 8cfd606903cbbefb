package api_test

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
)

// BenchmarkInstallToFirstInvoke measures, for the Go example uploaded
// beforehand, the time from the install call to the end of its first
// successful invocation, as a client sees it: install, wait for the task,
// invoke (goal: under 50 ms). Each run uploads the package first and
// uninstalls it after, outside the measured time.
func BenchmarkInstallToFirstInvoke(b *testing.B) {
	d := MustDaemon(b)
	pkg := plugin(b, "gotools")
	var times []time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		up, err := d.c.UploadPackage(context.Background(), "gotools.difypkg", bytes.NewReader(pkg))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		mustInstallAndInvoke(b, d.c, up.UniqueIdentifier)
		times = append(times, time.Since(start))
		b.StopTimer()
		mustUninstall(b, d.c, gotoolID)
		b.StartTimer()
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
}

// mustInstallAndInvoke installs an uploaded package of the Go example and
// makes one invocation of it.
func mustInstallAndInvoke(tb testing.TB, c *client.Client, uid string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := c.Install(ctx, []string{uid}, "package", nil)
	if err != nil {
		tb.Fatal(err)
	}
	if res.AllInstalled {
		tb.Fatal("the package was installed before the run")
	}
	if _, err := c.WaitTask(ctx, res.TaskID); err != nil {
		tb.Fatal(err)
	}
	s, err := c.InvokeTool(ctx, gotoolID, apispec.InvokeToolData{Provider: "gotools", Tool: "stream_text",
		ToolParameters: map[string]any{"text": "hello", "delay_ms": 0}}, "bench")
	if err != nil {
		tb.Fatal(err)
	}
	msgs, err := drain(s)
	if err != nil || len(msgs) != 1 || msgs[0].Text != "hello" {
		tb.Fatalf("first invocation = %+v, %v; want one text chunk \"hello\"", msgs, err)
	}
}

// mustUninstall uninstalls the installation of pluginID.
func mustUninstall(tb testing.TB, c *client.Client, pluginID string) {
	tb.Helper()
	ctx := context.Background()
	list, err := c.List(ctx, 1, 100)
	if err != nil {
		tb.Fatal(err)
	}
	for _, in := range list.List {
		if in.PluginID == pluginID {
			if err := c.Uninstall(ctx, in.ID); err != nil {
				tb.Fatal(err)
			}
			return
		}
	}
	tb.Fatalf("%s is not installed", pluginID)
}
