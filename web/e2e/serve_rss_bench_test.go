package e2e_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// BenchmarkServeRSS starts the real binary as `make run` does (the admin app
// with its embedded daemon, the examples in ./dist), installs every example
// in a browser, and reports the process's resident memory right after the
// installs and once it is idle (goal: under 100 MB idle); the plugins' own
// processes are not counted.
func BenchmarkServeRSS(b *testing.B) {
	skipWithoutChromium(b)
	srv, ids := MustServeAsMakeRun(b)
	br := MustBrowser(b, srv)
	br.Open("/", "setup-page")
	br.Fill(map[string]string{"input-username": "root", "input-password": "correct horse", "input-confirm": "correct horse"})
	br.Do("create owner", chromedp.Click(tid("setup-submit")), chromedp.WaitVisible(tid("plugins-page")))
	for _, id := range ids {
		installExample(b, br, id)
	}
	br.Open("/", "plugins-page")
	after := mustRSS(b, srv.PID)
	idle := waitIdleRSS(b, srv.PID)
	for b.Loop() {
		mustRSS(b, srv.PID)
	}
	b.ReportMetric(float64(after)/(1<<20), "rss-after-installs-MB")
	b.ReportMetric(float64(idle)/(1<<20), "rss-idle-MB")
}

// installExample installs one example from the plugins page's examples and
// waits until its card shows it running (a task still pending, behind
// another, is waited for too).
func installExample(tb testing.TB, br *Browser, id string) {
	tb.Helper()
	br.Open("/", "examples")
	card := `[data-testid="example-card"][data-example="` + filepath.Base(id) + `.difypkg"]`
	br.Do("install "+id, chromedp.Click(card+` [data-testid="example-install"]`), chromedp.WaitVisible(tid("task-progress")))
	br.Do(id+" installed", chromedp.WaitVisible(`[data-testid="task-progress"][data-status]:not([data-status="running"]):not([data-status="pending"])`))
	if st := Eval[string](br, `document.querySelector('[data-testid="task-progress"]').dataset.status`); st != "success" {
		tb.Fatalf("installing %s ended %q: %s", id, st, br.Text("task-progress"))
	}
	br.Open("/", "plugins-page")
	br.Do(id+" running", chromedp.WaitVisible(runningCard(id)))
}

// waitIdleRSS samples a process's resident memory every second until it
// stops falling (two samples within 1 MiB), for at most 30 s, and returns
// the last sample.
func waitIdleRSS(tb testing.TB, pid int) int64 {
	tb.Helper()
	last := mustRSS(tb, pid)
	for range 30 {
		time.Sleep(time.Second)
		now := mustRSS(tb, pid)
		if last-now < 1<<20 {
			return now
		}
		last = now
	}
	return last
}

// mustRSS reads a process's resident set size in bytes.
func mustRSS(tb testing.TB, pid int) int64 {
	tb.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb << 10
		}
	}
	tb.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}
