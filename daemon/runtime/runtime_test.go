package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/runtime"
)

func TestInvoke(t *testing.T) {
	m := MustManager(t, runtime.Config{})
	spec := MustStart(t, m, pySpec(t, "good"))

	t.Run("OK", func(t *testing.T) {
		texts, err := collect(t, MustInvoke(t, m, spec.Key, "echo", map[string]any{"text": "hello"}))
		if err != nil || len(texts) != 1 || texts[0] != "hello" {
			t.Fatalf("got %q, %v; want [hello]", texts, err)
		}
	})
	t.Run("OKStream", func(t *testing.T) {
		texts, err := collect(t, MustInvoke(t, m, spec.Key, "stream", map[string]any{"n": 5}))
		if err != nil || strings.Join(texts, ",") != "chunk 0,chunk 1,chunk 2,chunk 3,chunk 4" {
			t.Fatalf("got %q, %v", texts, err)
		}
	})
	t.Run("OKLogEvent", func(t *testing.T) {
		if _, err := collect(t, MustInvoke(t, m, spec.Key, "log", map[string]any{"text": "hello from log"})); err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, e := range m.Logs(spec.Key, 0) {
			found = found || (e.Source == "log" && e.Level == "info" && e.Message == "hello from log")
		}
		if !found {
			t.Fatalf("log event missing from %+v", m.Logs(spec.Key, 0))
		}
	})
	t.Run("ErrPluginError", func(t *testing.T) {
		_, err := collect(t, MustInvoke(t, m, spec.Key, "fail", nil))
		var pe *runtime.PluginError
		if !errors.As(err, &pe) || pe.Type != "ValueError" || pe.Message != "bad input" {
			t.Fatalf("got %v; want ValueError: bad input", err)
		}
		if args, _ := pe.Args.(map[string]any); args["field"] != "text" {
			t.Fatalf("args = %v", pe.Args)
		}
	})
	t.Run("ErrUnknownPlugin", func(t *testing.T) {
		_, err := m.Invoke(context.Background(), "acme/nope:1@x", toolRequest("echo", nil))
		if plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("got %v; want not_found", err)
		}
	})
	t.Run("OKStatus", func(t *testing.T) {
		st, ok := m.Status(spec.Key)
		if !ok || st.State != apispec.StateRunning || st.PID == 0 || st.StartedAt.IsZero() || st.Restarts != 0 {
			t.Fatalf("status = %+v, %v", st, ok)
		}
	})
}

func TestConcurrentSessions(t *testing.T) {
	m := MustManager(t, runtime.Config{})
	for _, spec := range []runtime.Spec{pySpec(t, "py"), goSpec(t, "go")} {
		t.Run(spec.PluginID, func(t *testing.T) {
			MustStart(t, m, spec)
			var wg sync.WaitGroup
			errc := make(chan error, 100)
			for i := range 100 {
				wg.Go(func() {
					want := fmt.Sprintf("caller %d", i)
					texts, err := collect(t, MustInvoke(t, m, spec.Key, "echo", map[string]any{"text": want}))
					if err != nil || len(texts) != 1 || texts[0] != want {
						errc <- fmt.Errorf("caller %d got %q, %v", i, texts, err)
					}
				})
			}
			wg.Wait()
			close(errc)
			for err := range errc {
				t.Error(err)
			}
			if st, _ := m.Status(spec.Key); st.InFlight != 0 {
				t.Fatalf("in flight after all ended: %d", st.InFlight)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	m := MustManager(t, runtime.Config{InvokeTimeout: 500 * time.Millisecond})
	spec := MustStart(t, m, pySpec(t, "cancel"))

	t.Run("OKClose", func(t *testing.T) {
		s := MustInvoke(t, m, spec.Key, "slow", nil)
		s.Close()
		waitFor(t, "the plugin to log the cancel", func() bool { return hasLog(m, spec.Key, "cancelled "+s.ID()) })
		if _, err := s.Recv(); err == nil {
			t.Fatal("Recv after Close returned no error")
		}
	})
	t.Run("ErrContextCancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		s, err := m.Invoke(ctx, spec.Key, toolRequest("slow", nil))
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		if _, err := s.Recv(); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v; want context.Canceled", err)
		}
		waitFor(t, "the plugin to log the cancel", func() bool { return hasLog(m, spec.Key, "cancelled "+s.ID()) })
	})
	t.Run("ErrTimeout", func(t *testing.T) {
		s := MustInvoke(t, m, spec.Key, "slow", nil)
		_, err := s.Recv()
		if plugboard.ErrorCode(err) != plugboard.ETIMEOUT || err.Error() != "plugin acme/cancel did not finish within 500ms" {
			t.Fatalf("got %v (%s); want the timeout error", err, plugboard.ErrorCode(err))
		}
		waitFor(t, "the plugin to log the cancel", func() bool { return hasLog(m, spec.Key, "cancelled "+s.ID()) })
	})
}

func TestConcurrencyLimit(t *testing.T) {
	m := MustManager(t, runtime.Config{MaxConcurrent: 2})
	spec := MustStart(t, m, pySpec(t, "limit"))
	hung := []*runtime.Stream{MustInvoke(t, m, spec.Key, "slow", nil), MustInvoke(t, m, spec.Key, "slow", nil)}

	t.Run("ErrBusyAtOnce", func(t *testing.T) {
		// No deadline of its own: a wait for a slot would hang the test.
		_, err := m.Invoke(context.Background(), spec.Key, toolRequest("echo", nil))
		if plugboard.ErrorCode(err) != plugboard.EBUSY || err.Error() != "plugin acme/limit is busy: all 2 of its invocation slots are in use; try again shortly" {
			t.Fatalf("got %v (%s)", err, plugboard.ErrorCode(err))
		}
	})
	t.Run("OKAfterSlotFrees", func(t *testing.T) {
		hung[0].Close()
		texts, err := collect(t, MustInvoke(t, m, spec.Key, "echo", map[string]any{"text": "x"}))
		if err != nil || len(texts) != 1 {
			t.Fatalf("got %q, %v", texts, err)
		}
	})
}

func TestInvokeTimeoutPerPlugin(t *testing.T) {
	m := MustManager(t, runtime.Config{})
	spec := pySpec(t, "timeout")
	spec.InvokeTimeout = 300 * time.Millisecond
	MustStart(t, m, spec)
	t.Run("ErrSpecTimeout", func(t *testing.T) {
		_, err := collect(t, MustInvoke(t, m, spec.Key, "slow", nil))
		if plugboard.ErrorCode(err) != plugboard.ETIMEOUT || err.Error() != "plugin acme/timeout did not finish within 300ms" {
			t.Fatalf("got %v; want the plugin's own timeout", err)
		}
	})
	t.Run("ErrChangedTimeout", func(t *testing.T) {
		if err := m.SetInvokeTimeout(spec.Key, 200*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		_, err := collect(t, MustInvoke(t, m, spec.Key, "slow", nil))
		if plugboard.ErrorCode(err) != plugboard.ETIMEOUT || err.Error() != "plugin acme/timeout did not finish within 200ms" {
			t.Fatalf("got %v; want the changed timeout", err)
		}
	})
	t.Run("ErrUnknownKey", func(t *testing.T) {
		if err := m.SetInvokeTimeout("nope", time.Second); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("got %v", err)
		}
	})
}

func TestEnvScrubbed(t *testing.T) {
	t.Setenv("PLUGBOARD_TEST_SECRET", "s3cret-value")
	m := MustManager(t, runtime.Config{})
	spec := pySpec(t, "env", "env")
	spec.Env = []string{"EXTRA_SETTING=1"}
	spec.MemoryLimit = 256 << 20
	MustStart(t, m, spec)
	// stderr is read apart from stdout: the environment may be logged after
	// the first heartbeat made the plugin ready. They are sorted, and TMPDIR
	// (always set: the private temp dir) comes after every one wanted here.
	waitFor(t, "the plugin's environment in its logs", func() bool { return hasLog(m, spec.Key, "ENV TMPDIR=") })
	if hasLog(m, spec.Key, "s3cret-value") || hasLog(m, spec.Key, "PLUGBOARD_TEST_SECRET") {
		t.Fatal("the daemon's secret reached the plugin's environment")
	}
	for _, want := range []string{"ENV HOME=" + spec.Dir, "ENV EXTRA_SETTING=1", "ENV INSTALL_METHOD=local", "ENV PYTHONUNBUFFERED=1",
		"ENV GOMEMLIMIT=201326592"} {
		if !hasLog(m, spec.Key, want) {
			t.Errorf("plugin environment lacks %q", want)
		}
	}
}

func TestGarbageSurvived(t *testing.T) {
	m := MustManager(t, runtime.Config{})
	spec := MustStart(t, m, pySpec(t, "garbage", "garbage"))
	texts, err := collect(t, MustInvoke(t, m, spec.Key, "echo", map[string]any{"text": "still here"}))
	if err != nil || len(texts) != 1 || texts[0] != "still here" {
		t.Fatalf("got %q, %v", texts, err)
	}
	var long, junk bool
	for _, e := range m.Logs(spec.Key, 0) {
		long = long || (e.Source == "daemon" && e.Level == "warn" && e.Message == "line over 5 MiB discarded")
		junk = junk || (e.Source == "daemon" && strings.Contains(e.Message, "not JSON: this is not json {"))
	}
	if !long || !junk {
		t.Fatalf("over-long line logged %v, garbage logged %v: %+v", long, junk, m.Logs(spec.Key, 0))
	}
	if st, _ := m.Status(spec.Key); st.Restarts != 0 || st.State != apispec.StateRunning {
		t.Fatalf("status %+v", st)
	}
}

func TestLogs(t *testing.T) {
	m := MustManager(t, runtime.Config{LogLines: 3})
	spec := MustStart(t, m, pySpec(t, "logs"))
	for i := range 5 {
		if _, err := collect(t, MustInvoke(t, m, spec.Key, "log", map[string]any{"text": fmt.Sprint("entry ", i)})); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, e := range m.Logs(spec.Key, 2) {
		got = append(got, e.Message)
	}
	if strings.Join(got, ",") != "entry 3,entry 4" {
		t.Fatalf("Logs(2) = %q", got)
	}
	if n := len(m.Logs(spec.Key, 0)); n != 3 {
		t.Fatalf("ring holds %d entries; want 3", n)
	}
}

func TestLongLine(t *testing.T) {
	m := MustManager(t, runtime.Config{})
	spec := MustStart(t, m, pySpec(t, "long"))
	texts, err := collect(t, MustInvoke(t, m, spec.Key, "big", map[string]any{"size": 3 << 20}))
	if err != nil || len(texts) != 1 || len(texts[0]) != 3<<20 {
		t.Fatalf("got %d chunks, %v; want one 3 MiB chunk", len(texts), err)
	}
}

func TestBackpressure(t *testing.T) {
	const heartbeatTimeout = 300 * time.Millisecond
	m := MustManager(t, runtime.Config{HeartbeatTimeout: heartbeatTimeout})
	spec := goSpec(t, "backpressure")
	spec.Env = []string{"HEARTBEAT_MS=20"}
	MustStart(t, m, spec)

	t.Run("OKInOrder", func(t *testing.T) {
		s := MustInvoke(t, m, spec.Key, "echo", map[string]any{"text": "x", "n": 2000})
		waitFor(t, "the session's queue to fill", func() bool { return s.Buffered() == 256 })
		// Hold the reader behind this slow consumer past the heartbeat timeout:
		// the plugin is not at fault and must not be restarted.
		time.Sleep(2 * heartbeatTimeout)
		texts, err := collect(t, s)
		if err != nil || len(texts) != 2000 {
			t.Fatalf("got %d chunks, %v; want 2000", len(texts), err)
		}
		if st, _ := m.Status(spec.Key); st.Restarts != 0 {
			t.Fatalf("a slow consumer got the plugin restarted: %+v", st)
		}
	})
	t.Run("OKCloseUnblocks", func(t *testing.T) {
		s := MustInvoke(t, m, spec.Key, "echo", map[string]any{"text": "x", "n": 2000})
		waitFor(t, "the session's queue to fill", func() bool { return s.Buffered() == 256 })
		s.Close()
		texts, err := collect(t, MustInvoke(t, m, spec.Key, "echo", map[string]any{"text": "next"}))
		if err != nil || len(texts) != 1 || texts[0] != "next" {
			t.Fatalf("after closing a full session got %q, %v", texts, err)
		}
	})
}

func TestMessageOverLimit(t *testing.T) {
	m := MustManager(t, runtime.Config{})
	spec := MustStart(t, m, pySpec(t, "overlimit"))
	for _, tool := range []string{"big", "big_last"} {
		t.Run("Err"+tool, func(t *testing.T) {
			texts, err := collect(t, MustInvoke(t, m, spec.Key, tool, map[string]any{"size": 6 << 20}))
			if err == nil || !strings.Contains(err.Error(), "sent a message over the 5 MiB line limit") {
				t.Fatalf("got %d chunks and %v; want an error naming the line limit", len(texts), err)
			}
			if len(texts) != 0 {
				t.Fatalf("got %d chunks before the error", len(texts))
			}
		})
	}
	t.Run("OKConnStillServes", func(t *testing.T) {
		texts, err := collect(t, MustInvoke(t, m, spec.Key, "echo", map[string]any{"text": "after"}))
		if err != nil || len(texts) != 1 || texts[0] != "after" {
			t.Fatalf("got %q, %v", texts, err)
		}
		if st, _ := m.Status(spec.Key); st.Restarts != 0 || st.State != apispec.StateRunning {
			t.Fatalf("status %+v; want the same instance running", st)
		}
	})
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestDroppedOutputLogged(t *testing.T) {
	var logs syncBuffer
	m := MustManager(t, runtime.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	spec := MustStart(t, m, pySpec(t, "odd"))
	for range 2 {
		if _, err := collect(t, MustInvoke(t, m, spec.Key, "odd", nil)); err != nil {
			t.Fatal(err)
		}
	}
	for _, kind := range []string{"an unknown session", "a session message of an unknown type", "an event of an unknown kind"} {
		var lines []string
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, kind) {
				lines = append(lines, l)
			}
		}
		if len(lines) != 1 {
			t.Fatalf("%d log lines about %s, want 1 (rate-limited):\n%s", len(lines), kind, logs.String())
		}
		if !strings.Contains(lines[0], "plugin=acme/odd") || !strings.Contains(lines[0], "level=WARN") {
			t.Errorf("log line %q lacks the plugin id or level", lines[0])
		}
	}
}
