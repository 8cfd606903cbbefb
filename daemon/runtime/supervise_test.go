package runtime_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/runtime"
)

// fastRestarts keeps restart backoff short for tests.
var fastRestarts = runtime.Config{BackoffMin: 10 * time.Millisecond, BackoffMax: 40 * time.Millisecond}

func TestStart(t *testing.T) {
	m := MustManager(t, runtime.Config{})

	t.Run("ErrExitOnStart", func(t *testing.T) {
		spec := pySpec(t, "exits", "exit")
		err := m.Start(context.Background(), spec)
		want := "plugin acme/exits exited before it was ready (exit status 3): boom: missing module"
		if err == nil || err.Error() != want || plugboard.ErrorCode(err) != plugboard.EUNAVAILABLE {
			t.Fatalf("got %v; want %q", err, want)
		}
		st, _ := m.Status(spec.Key)
		if st.State != apispec.StateFailed || st.LastError != want || st.PID != 0 {
			t.Fatalf("status %+v", st)
		}
	})
	t.Run("ErrNoHeartbeat", func(t *testing.T) {
		// Long enough for python to start and spawn its child on a loaded
		// machine: the child must exist before the timeout kills the group.
		spec := pySpec(t, "silent", "silent", "spawn")
		spec.StartTimeout = 15 * time.Second
		mark := mark(t)
		spec.Env = append(spec.Env, mark)
		err := m.Start(context.Background(), spec)
		if err == nil || !strings.HasPrefix(err.Error(), "plugin acme/silent sent no heartbeat within 15s of starting, so it was stopped") {
			t.Fatalf("got %v", err)
		}
		child := childPID(t, m, spec.Key)
		if n := markedProcesses(mark); n != 0 {
			t.Fatalf("%d of the plugin's processes (its child %d) still run after a failed start", n, child)
		}
	})
	t.Run("ErrBadCommand", func(t *testing.T) {
		spec := pySpec(t, "nocmd")
		spec.Command = []string{"/nonexistent/plugin"}
		if err := m.Start(context.Background(), spec); plugboard.ErrorCode(err) != plugboard.EINVALID || !strings.Contains(err.Error(), `cannot start "/nonexistent/plugin"`) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ErrAlreadyRunning", func(t *testing.T) {
		spec := MustStart(t, m, pySpec(t, "twice"))
		if err := m.Start(context.Background(), spec); plugboard.ErrorCode(err) != plugboard.ECONFLICT {
			t.Fatalf("got %v; want conflict", err)
		}
	})
	t.Run("OKAgainAfterFailure", func(t *testing.T) {
		spec := pySpec(t, "exits")
		MustStart(t, m, spec)
		if st, _ := m.Status(spec.Key); st.State != apispec.StateRunning {
			t.Fatalf("status %+v", st)
		}
	})
}

// childPID finds the pid the plugin reported with "child N" on stderr.
func childPID(tb testing.TB, m *runtime.Manager, key string) int {
	tb.Helper()
	for _, e := range m.Logs(key, 0) {
		if rest, ok := strings.CutPrefix(e.Message, "child "); ok {
			pid, err := strconv.Atoi(rest)
			if err == nil {
				return pid
			}
		}
	}
	tb.Fatalf("no child pid in the logs: %+v", m.Logs(key, 0))
	return 0
}

func TestCrashMidStream(t *testing.T) {
	m := MustManager(t, fastRestarts)
	spec := MustStart(t, m, pySpec(t, "crash"))
	texts, err := collect(t, MustInvoke(t, m, spec.Key, "crash", nil))
	want := "plugin acme/crash exited unexpectedly (exit status 2) while handling this request: fatal: crashing on purpose"
	if len(texts) != 1 || texts[0] != "partial" || err == nil || err.Error() != want || plugboard.ErrorCode(err) != plugboard.EUNAVAILABLE {
		t.Fatalf("got %q, %v; want [partial], %q", texts, err, want)
	}
	// Invoke waits for the restart and is then served.
	texts, err = collect(t, MustInvoke(t, m, spec.Key, "echo", map[string]any{"text": "back"}))
	if err != nil || len(texts) != 1 || texts[0] != "back" {
		t.Fatalf("after the restart got %q, %v", texts, err)
	}
	st, _ := m.Status(spec.Key)
	if st.State != apispec.StateRunning || st.Restarts != 1 || st.LastError != "plugin acme/crash exited unexpectedly (exit status 2): fatal: crashing on purpose" {
		t.Fatalf("status %+v", st)
	}
}

func TestHeartbeatLoss(t *testing.T) {
	cfg := fastRestarts
	cfg.HeartbeatTimeout = 500 * time.Millisecond
	m := MustManager(t, cfg)
	spec := MustStart(t, m, pySpec(t, "quiet"))
	texts, err := collect(t, MustInvoke(t, m, spec.Key, "stop_heartbeat", nil))
	want := "plugin acme/quiet sent no heartbeat for 500ms and was restarted"
	if len(texts) != 1 || err == nil || err.Error() != want {
		t.Fatalf("got %q, %v; want %q", texts, err, want)
	}
	waitFor(t, "the restart", func() bool {
		st, _ := m.Status(spec.Key)
		return st.State == apispec.StateRunning && st.Restarts == 1
	})
}

func TestFailedAfterMaxRestarts(t *testing.T) {
	cfg := fastRestarts
	cfg.MaxRestarts = 3
	m := MustManager(t, cfg)
	spec := MustStart(t, m, pySpec(t, "once", "once"))
	if _, err := collect(t, MustInvoke(t, m, spec.Key, "crash", nil)); plugboard.ErrorCode(err) != plugboard.EUNAVAILABLE {
		t.Fatalf("got %v", err)
	}
	waitFor(t, "the failed state", func() bool {
		st, _ := m.Status(spec.Key)
		return st.State == apispec.StateFailed
	})
	st, _ := m.Status(spec.Key)
	wantErr := "plugin acme/once exited before it was ready (exit status 3): refusing to start twice"
	if st.Restarts != 3 || st.LastError != wantErr || st.PID != 0 {
		t.Fatalf("status %+v", st)
	}
	_, err := m.Invoke(context.Background(), spec.Key, toolRequest("echo", nil))
	if plugboard.ErrorCode(err) != plugboard.EUNAVAILABLE || err.Error() != "plugin acme/once has failed: "+wantErr {
		t.Fatalf("invoke on a failed plugin: %v", err)
	}
}

func TestStop(t *testing.T) {
	m := MustManager(t, runtime.Config{})
	spec := pySpec(t, "stop", "spawn")
	mark := mark(t)
	spec.Env = append(spec.Env, mark)
	MustStart(t, m, spec)
	slow := MustInvoke(t, m, spec.Key, "slow", nil)
	texts, err := collect(t, MustInvoke(t, m, spec.Key, "spawn", nil))
	if err != nil || len(texts) != 1 {
		t.Fatalf("spawn: %q, %v", texts, err)
	}
	childPID(t, m, spec.Key)
	// The launcher, the plugin, its child at start and the one it spawned.
	// Wait for them: on a busy machine the children may not be up yet.
	waitFor(t, "the launcher, the plugin and its two children", func() bool { return markedProcesses(mark) == 4 })
	if err := m.Stop(spec.Key); err != nil {
		t.Fatal(err)
	}
	if _, err := slow.Recv(); err == nil || err.Error() != "plugin acme/stop was stopped while handling this request" {
		t.Fatalf("in-flight session got %v", err)
	}
	waitFor(t, "the plugin's children to die", func() bool { return markedProcesses(mark) == 0 })
	if _, ok := m.Status(spec.Key); ok {
		t.Fatal("a stopped plugin is still known")
	}
	if err := m.Stop(spec.Key); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
		t.Fatalf("second Stop: %v", err)
	}
}

func TestStopIgnoringCancel(t *testing.T) {
	m := MustManager(t, runtime.Config{})
	spec := MustStart(t, m, pySpec(t, "stubborn"))
	s := MustInvoke(t, m, spec.Key, "ignore_cancel", nil)
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if st, ok := m.Status(spec.Key); ok {
		t.Fatalf("still known after Close: %+v", st)
	}
}
