package runtime

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/plugboard/plugboard/daemon/sandbox"
)

// cgroupRoot is where cgroup hierarchies are mounted.
const cgroupRoot = "/sys/fs/cgroup"

var (
	cgroupSeq    atomic.Uint64
	unsafeCgName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)
)

// cgroup is one instance's cgroup: memory limit, pids limit, and the set of
// its processes (so that every process it starts counts and can be killed).
// With cgroup v2 it is one directory the process is cloned into; with v1 it
// is a directory in the memory and one in the pids hierarchy, which the
// launcher joins before it starts the plugin. A nil *cgroup is valid and
// does nothing.
type cgroup struct {
	v2   bool
	dir  string // v2: the cgroup; v1: the memory cgroup
	pids string // v1: the pids cgroup ("" when that controller is missing)
	fd   *os.File
	// pidsLimited reports whether pids.max took (the controller may be missing).
	pidsLimited bool
}

// CgroupKind says which cgroups limit plugins here: "cgroup v2", "cgroup v1",
// or "" when none is usable (the /proc watchdog and RLIMIT_AS then enforce
// memory limits).
func CgroupKind() string {
	cgroupKindOnce.Do(func() { cgroupKind = probeCgroupKind() })
	return cgroupKind
}

var (
	cgroupKindOnce sync.Once
	cgroupKind     string
)

func probeCgroupKind() string {
	switch cg := probeCgroup(); {
	case cg == nil:
		return ""
	case cg.v2:
		return "cgroup v2"
	default:
		return "cgroup v1"
	}
}

// CgroupsUsable reports whether memory limits are enforced by a cgroup here.
func CgroupsUsable() bool { return CgroupKind() != "" }

func probeCgroup() *cgroup {
	cg := newCgroup("probe")
	if cg == nil {
		return nil
	}
	defer cg.remove()
	if err := cg.create(1<<30, 16); err != nil {
		return nil
	}
	return cg
}

// newCgroup names a cgroup for key in whichever hierarchy is usable, or
// returns nil.
func newCgroup(key string) *cgroup {
	name := truncateName(fmt.Sprintf("%s-%d-%d", unsafeCgName.ReplaceAllString(key, "_"), os.Getpid(), cgroupSeq.Add(1)))
	if parent, err := cgroupParentV2(); err == nil {
		return &cgroup{v2: true, dir: filepath.Join(parent, name)}
	}
	mem := filepath.Join(cgroupRoot, "memory")
	if !isCgroupV1(mem) || os.MkdirAll(filepath.Join(mem, "plugboard"), 0o755) != nil {
		return nil
	}
	cg := &cgroup{dir: filepath.Join(mem, "plugboard", name)}
	if pids := filepath.Join(cgroupRoot, "pids"); isCgroupV1(pids) && os.MkdirAll(filepath.Join(pids, "plugboard"), 0o755) == nil {
		cg.pids = filepath.Join(pids, "plugboard", name)
	}
	return cg
}

func isCgroupV1(dir string) bool {
	var st unix.Statfs_t
	return unix.Statfs(dir, &st) == nil && st.Type == unix.CGROUP_SUPER_MAGIC
}

// cgroupParentV2 makes /sys/fs/cgroup/plugboard with the memory and pids
// controllers enabled for its children.
func cgroupParentV2() (string, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(cgroupRoot, &st); err != nil || st.Type != unix.CGROUP2_SUPER_MAGIC {
		return "", fmt.Errorf("%s is not a cgroup v2 mount", cgroupRoot)
	}
	if err := enableControllers(cgroupRoot); err != nil {
		return "", err
	}
	dir := filepath.Join(cgroupRoot, "plugboard")
	if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
		return "", err
	}
	return dir, enableControllers(dir)
}

func enableControllers(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
	if err != nil {
		return err
	}
	if !bytes.Contains(b, []byte("memory")) {
		if err := os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+memory"), 0o644); err != nil {
			return err
		}
	}
	if !bytes.Contains(b, []byte("pids")) { // optional: the memory limit matters most
		_ = os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+pids"), 0o644)
	}
	return nil
}

// attachCgroup makes a cgroup with spec's memory limit (0: none, only
// accounting) and cfg's pids limit. For v2 it arranges for cmd to be cloned
// into it; for v1 it returns the cgroup.procs files the launcher must join.
// It returns a nil cgroup when none is usable.
func attachCgroup(cmd *exec.Cmd, spec Spec, cfg Config) (*cgroup, []string) {
	cg := newCgroup(spec.Key)
	if cg == nil {
		return nil, nil
	}
	if err := cg.create(spec.MemoryLimit, cfg.PidsLimit); err != nil {
		cfg.Logger.Debug("cgroup unavailable; using the watchdog", "plugin", spec.PluginID, "error", err)
		cg.remove()
		return nil, nil
	}
	if cg.v2 {
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, int(cg.fd.Fd())
		return cg, nil
	}
	join := []string{filepath.Join(cg.dir, "cgroup.procs")}
	if cg.pids != "" {
		join = append(join, filepath.Join(cg.pids, "cgroup.procs"))
	}
	return cg, join
}

func truncateName(s string) string {
	if len(s) > 200 {
		return s[len(s)-200:]
	}
	return s
}

func (cg *cgroup) create(limit int64, pids int) error {
	if err := os.Mkdir(cg.dir, 0o755); err != nil {
		return err
	}
	write := func(dir, file, value string) error {
		return os.WriteFile(filepath.Join(dir, file), []byte(value), 0o644)
	}
	if cg.v2 {
		if limit > 0 {
			if err := write(cg.dir, "memory.max", strconv.FormatInt(limit, 10)); err != nil {
				return err
			}
			// Kill the whole group on OOM, so the plugin restarts cleanly
			// instead of limping on without the process the kernel chose.
			_ = write(cg.dir, "memory.oom.group", "1")
			_ = write(cg.dir, "memory.swap.max", "0")
		}
		if pids > 0 {
			cg.pidsLimited = write(cg.dir, "pids.max", strconv.Itoa(pids)) == nil
		}
		fd, err := os.Open(cg.dir)
		cg.fd = fd
		return err
	}
	if limit > 0 {
		if err := write(cg.dir, "memory.limit_in_bytes", strconv.FormatInt(limit, 10)); err != nil {
			return err
		}
		// Swap would let the plugin go past its limit; not every kernel has memsw.
		_ = write(cg.dir, "memory.memsw.limit_in_bytes", strconv.FormatInt(limit, 10))
	}
	if cg.pids != "" {
		if err := os.Mkdir(cg.pids, 0o755); err != nil {
			cg.pids = ""
		} else if pids > 0 {
			if err := write(cg.pids, "pids.max", strconv.Itoa(pids)); err != nil {
				return err
			}
			cg.pidsLimited = true
		}
	}
	return nil
}

// describe says what the cgroup limits, for the plugin's status.
func (cg *cgroup) describe(memoryLimit int64) string {
	kind := "cgroup v1"
	if cg.v2 {
		kind = "cgroup v2"
	}
	var limits []string
	if memoryLimit > 0 {
		limits = append(limits, "memory")
	}
	if cg.pidsLimited {
		limits = append(limits, "pids")
	}
	if len(limits) == 0 {
		return kind + " (memory accounting only)"
	}
	noun := " limit"
	if len(limits) > 1 {
		noun = " limits"
	}
	return kind + " " + strings.Join(limits, " and ") + noun
}

// current returns the cgroup's memory use.
func (cg *cgroup) current() (int64, bool) {
	if cg == nil {
		return 0, false
	}
	file := "memory.current"
	if !cg.v2 {
		file = "memory.usage_in_bytes"
	}
	b, err := os.ReadFile(filepath.Join(cg.dir, file))
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n, err == nil
}

// oomKilled reports whether the kernel killed a process of the cgroup for
// exceeding its memory limit.
func (cg *cgroup) oomKilled() bool {
	if cg == nil {
		return false
	}
	file := "memory.events"
	if !cg.v2 {
		file = "memory.oom_control"
	}
	b, err := os.ReadFile(filepath.Join(cg.dir, file))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "oom_kill" && f[1] != "0" {
			return true
		}
	}
	return false
}

// kill sends SIGKILL to every process left in the cgroup: children that left
// the plugin's process group (setsid, a double fork) die with it too.
func (cg *cgroup) kill() {
	if cg == nil {
		return
	}
	if cg.v2 {
		if os.WriteFile(filepath.Join(cg.dir, "cgroup.kill"), []byte("1"), 0o644) == nil {
			return
		}
	}
	// Killing one by one races with forks; a few passes catch the children
	// of processes that were forking at the first.
	for range 5 {
		b, err := os.ReadFile(filepath.Join(cg.dir, "cgroup.procs"))
		if err != nil || len(bytes.TrimSpace(b)) == 0 {
			return
		}
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				_ = unix.Kill(pid, unix.SIGKILL)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// remove deletes the cgroup, killing what is left in it.
func (cg *cgroup) remove() {
	if cg == nil {
		return
	}
	if cg.fd != nil {
		_ = cg.fd.Close()
	}
	cg.kill()
	for _, dir := range []string{cg.dir, cg.pids} {
		if dir == "" {
			continue
		}
		// The last processes may still be exiting; rmdir fails until they are gone.
		for range 50 {
			if err := os.Remove(dir); err == nil || os.IsNotExist(err) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// HostContainment describes what contains plugins on this host, for the
// daemon's start log: the sandbox's features and the kernel's limits.
func HostContainment() string {
	limits := "memory limits: the /proc watchdog and RLIMIT_DATA (no usable cgroup)"
	if kind := CgroupKind(); kind != "" {
		limits = "memory and pids limits: " + kind
	}
	return sandbox.Probe().String() + "; " + limits
}

var sweepOnce sync.Once

// sweepLeftovers removes the cgroups and private temp dirs that a daemon
// that is gone left behind (it was killed before it could remove them);
// their processes died with it.
func sweepLeftovers() {
	sweepOnce.Do(func() {
		for _, parent := range []string{
			filepath.Join(cgroupRoot, "plugboard"),
			filepath.Join(cgroupRoot, "memory", "plugboard"),
			filepath.Join(cgroupRoot, "pids", "plugboard"),
		} {
			entries, _ := os.ReadDir(parent)
			for _, e := range entries {
				if e.IsDir() && !daemonAlive(e.Name()) {
					_ = os.Remove(filepath.Join(parent, e.Name()))
				}
			}
		}
		temps, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*-*"))
		for _, dir := range temps {
			if !daemonAlive(filepath.Base(dir)) {
				_ = os.RemoveAll(dir)
			}
		}
	})
}

// daemonAlive reads the daemon pid in a cgroup's or temp dir's name
// (NAME-PID-SUFFIX) and reports whether that process still runs;
// unreadable names count as alive.
func daemonAlive(name string) bool {
	f := strings.Split(name, "-")
	if len(f) < 3 {
		return true
	}
	pid, err := strconv.Atoi(f[len(f)-2])
	if err != nil {
		return true
	}
	return pid == os.Getpid() || unix.Kill(pid, 0) != unix.ESRCH
}
