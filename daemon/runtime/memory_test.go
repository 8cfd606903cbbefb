package runtime_test

import (
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/runtime"
)

func TestMemoryLimit(t *testing.T) {
	cfg := fastRestarts
	cfg.MemoryPoll = 50 * time.Millisecond
	m := MustManager(t, cfg)
	spec := pySpec(t, "hungry")
	spec.MemoryLimit = 64 << 20
	MustStart(t, m, spec)
	waitFor(t, "a memory reading", func() bool {
		st, _ := m.Status(spec.Key)
		return st.MemoryBytes > 0 && st.MemoryLimit == 64<<20
	})

	texts, err := collect(t, MustInvoke(t, m, spec.Key, "alloc", map[string]any{"mb": 200}))
	want := "plugin acme/hungry was stopped: over its memory limit (64 MiB, using "
	if runtime.CgroupsUsable() {
		want = "plugin acme/hungry was stopped: over its memory limit (64 MiB)"
	}
	if err == nil || !strings.HasPrefix(err.Error(), want) || plugboard.ErrorCode(err) != plugboard.EUNAVAILABLE {
		t.Fatalf("got %q, %v; want an error starting %q", texts, err, want)
	}
	waitFor(t, "the restart", func() bool {
		st, _ := m.Status(spec.Key)
		return st.State == apispec.StateRunning && st.Restarts == 1 && strings.HasPrefix(st.LastError, want)
	})
}

func TestMemoryCgroup(t *testing.T) {
	if !runtime.CgroupsUsable() {
		t.Skip("cgroup v2 with a delegable memory controller is not available here; the watchdog path is tested instead")
	}
	m := MustManager(t, fastRestarts)
	spec := pySpec(t, "cgroup")
	spec.MemoryLimit = 64 << 20
	MustStart(t, m, spec)
	_, err := collect(t, MustInvoke(t, m, spec.Key, "alloc", map[string]any{"mb": 200}))
	if want := "plugin acme/cgroup was stopped: over its memory limit (64 MiB)"; err == nil || err.Error() != want {
		t.Fatalf("got %v; want %q", err, want)
	}
}
