package runtime

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

func TestSweepLeftovers(t *testing.T) {
	if CgroupKind() != "cgroup v1" {
		t.Skip("the sweep is tested on cgroup v1 hosts; this one has " + CgroupKind() + " (none when empty)")
	}
	parent := filepath.Join(cgroupRoot, "memory", "plugboard")
	stale := filepath.Join(parent, "acme_gone-999999999-1") // no such pid
	mine := filepath.Join(parent, "acme_mine-"+strconv.Itoa(os.Getpid())+"-1")
	for _, d := range []string{stale, mine} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	defer os.Remove(mine)
	sweepOnce = sync.Once{}
	sweepLeftovers()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		os.Remove(stale)
		t.Fatalf("a dead daemon's cgroup is left: %v", err)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Fatalf("a live daemon's cgroup was removed: %v", err)
	}
}

func TestSweepTempDirs(t *testing.T) {
	stale, err := os.MkdirTemp("", tempPrefix+"999999999-") // no such pid
	if err != nil {
		t.Fatal(err)
	}
	mine, err := os.MkdirTemp("", tempPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(mine)
	sweepOnce = sync.Once{}
	sweepLeftovers()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		os.RemoveAll(stale)
		t.Fatalf("a dead daemon's temp dir is left: %v", err)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Fatalf("a live daemon's temp dir was removed: %v", err)
	}
}
